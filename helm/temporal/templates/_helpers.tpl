{{/*
Chart name, truncated to the 63 characters of a DNS label.
*/}}
{{- define "temporal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name: <release>-<chart> unless the release name already contains the chart name.
*/}}
{{- define "temporal.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Component-aware name. Call with (dict "root" $ "component" "frontend").
*/}}
{{- define "temporal.componentName" -}}
{{- printf "%s-%s" (include "temporal.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "temporal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: stable across upgrades, never helm.sh/chart or the version.
Call with (dict "root" $ "component" "history").
*/}}
{{- define "temporal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "temporal.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
The full app.kubernetes.io/* label set. Call with (dict "root" $ "component" "history").
*/}}
{{- define "temporal.labels" -}}
{{ include "temporal.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ .root.Values.partOf }}
helm.sh/chart: {{ include "temporal.chart" .root }}
{{- end -}}

{{/*
Release-wide selector (all components of this release), used by the NetworkPolicies.
*/}}
{{- define "temporal.releaseSelector" -}}
app.kubernetes.io/name: {{ include "temporal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
An image by digest: <repository>@<digest>. Tags are never used.
*/}}
{{- define "temporal.image" -}}
{{- printf "%s@%s" .repository .digest -}}
{{- end -}}

{{- define "temporal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "temporal.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Restricted container securityContext (Pod Security Standard "restricted").
*/}}
{{- define "temporal.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "temporal.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Database environment for one store. Call with (dict "root" $ "store" "default").
Credentials come from an existing Secret (fed by Vault, see vaultStaticSecret).
*/}}
{{- define "temporal.storeEnv" -}}
{{- $s := index .root.Values.persistence .store -}}
{{- $p := upper .store -}}
- name: TEMPORAL_{{ $p }}_DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ $s.existingSecret }}
      key: {{ $s.userKey }}
- name: TEMPORAL_{{ $p }}_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $s.existingSecret }}
      key: {{ $s.passwordKey }}
{{- end -}}

{{/*
The pod's spread: zones (hard or soft per values) and nodes (soft), plus preferred anti-affinity per node.
Call with (dict "root" $ "component" "history").
*/}}
{{- define "temporal.spread" -}}
{{- $ha := .root.Values.highAvailability -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $ha.zoneSpread }}
    labelSelector:
      matchLabels:
        {{- include "temporal.selectorLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "temporal.selectorLabels" . | nindent 8 }}
affinity:
  podAntiAffinity:
    {{- if eq $ha.nodeAntiAffinity "required" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "temporal.selectorLabels" . | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "temporal.selectorLabels" . | nindent 14 }}
    {{- end }}
{{- end -}}

{{/*
Checkov waivers on the workloads, each with its reason (checkov reads metadata.annotations checkov.io/skipN).
*/}}
{{- define "temporal.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_40=the temporalio images own their files as uid 1000; podSecurity.runAsUser sets the uid
checkov.io/skip2: CKV_K8S_11=no CPU limits on purpose (CFS throttling of the Go gRPC servers); CPU requests are set per env
checkov.io/skip3: CKV_K8S_35=Temporal reads the DB credentials from env in its templated config; they come from a Vault-fed Secret
{{- end -}}

{{/*
Rolling update that can always make progress. With required node anti-affinity each node runs one pod of a
component and there may be no spare node (replicas = nodes), so a surge pod could never schedule: replace one pod
at a time instead (the PDB keeps the others serving). Otherwise surge one new pod before removing an old one.
*/}}
{{- define "temporal.strategy" -}}
strategy:
  type: RollingUpdate
  rollingUpdate:
    {{- if eq .Values.highAvailability.nodeAntiAffinity "required" }}
    maxUnavailable: 1
    maxSurge: 0
    {{- else }}
    maxUnavailable: 0
    maxSurge: 1
    {{- end }}
{{- end -}}
