{{/*
temporal's own snippets. Names, labels, the image reference and the restricted securityContexts come from the
library chart helm/common (charts/common): common.names.{fullname,component}, common.labels.{standard,matchLabels,
release}, common.images.digestRef, common.securityContext.{pod,container}.
*/}}

{{- define "temporal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "common.names.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
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
        {{- include "common.labels.matchLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "common.labels.matchLabels" . | nindent 8 }}
affinity:
  podAntiAffinity:
    {{- if eq $ha.nodeAntiAffinity "required" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "common.labels.matchLabels" . | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "common.labels.matchLabels" . | nindent 14 }}
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
