{{/*
Pod securityContext of the Pod Security Standard "restricted": (dict "runAsUser" 1000 "runAsGroup" 1000 "fsGroup" 1000);
fsGroup defaults to runAsGroup.
*/}}
{{- define "common.securityContext.pod" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
fsGroup: {{ ternary .fsGroup .runAsGroup (hasKey . "fsGroup") }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container securityContext of the Pod Security Standard "restricted": (dict "runAsUser" 1000 "runAsGroup" 1000) */}}
{{- define "common.securityContext.container" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}
