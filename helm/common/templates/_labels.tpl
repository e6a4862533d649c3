{{/* Every component of this release (name + instance): $. NetworkPolicies select with it. */}}
{{- define "common.labels.release" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels, stable across upgrades (never helm.sh/chart or the version): (dict "root" $ "component" "api") */}}
{{- define "common.labels.matchLabels" -}}
{{ include "common.labels.release" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The full label set: the selector labels, app.kubernetes.io/{version,managed-by}, app.kubernetes.io/part-of from the
chart's .Values.partOf, and helm.sh/chart: (dict "root" $ "component" "api"). Keep this text stable: temporal hashes
its rendered ConfigMap (labels included) into checksum/config, so a reordering restarts its pods.
*/}}
{{- define "common.labels.standard" -}}
{{ include "common.labels.matchLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.partOf }}
app.kubernetes.io/part-of: {{ . }}
{{- end }}
helm.sh/chart: {{ include "common.names.chart" .root }}
{{- end }}
