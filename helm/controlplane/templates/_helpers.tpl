{{/*
controlplane's own snippets. Names, labels, the image reference and the restricted securityContexts come from the
library chart helm/common (charts/common): common.names.{fullname,component}, common.labels.{standard,matchLabels},
common.images.digestRef, common.securityContext.{pod,container}. The workloads are in workloads.yaml.
*/}}

{{/* The Vault Kubernetes auth role of a component: <rolePrefix>-<suffix> */}}
{{- define "controlplane.vaultRole" -}}
{{- printf "%s-%s" .root.Values.vault.rolePrefix .suffix | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Namespace of a dedicated (tier C) tenant: (dict "root" $ "tenant" "acme") */}}
{{- define "controlplane.tenantNamespace" -}}
{{- printf "%s%s" .root.Values.dedicatedTenants.namespacePrefix .tenant | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of a tier C tenant's worker Deployment and ServiceAccount, <fullname>-worker-<tenant>: (dict "root" $ "tenant" "acme") */}}
{{- define "controlplane.tenantWorkerName" -}}
{{- printf "%s-%s" (include "common.names.component" (dict "root" .root "component" "worker")) .tenant | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A workload's selector labels: common.labels.matchLabels, plus its tier and tenant when set (a workloads.yaml entry). */}}
{{- define "controlplane.workloadSelectorLabels" -}}
{{ include "common.labels.matchLabels" . }}
{{- with .tier }}
controlplane.infractl.io/tier: {{ . }}
{{- end }}
{{- with .tenant }}
controlplane.infractl.io/tenant: {{ . }}
{{- end }}
{{- end }}

{{/* A workload's labels: common.labels.standard, plus its tier and tenant when set (a workloads.yaml entry). */}}
{{- define "controlplane.workloadLabels" -}}
{{ include "common.labels.standard" . }}
{{- with .tier }}
controlplane.infractl.io/tier: {{ . }}
{{- end }}
{{- with .tenant }}
controlplane.infractl.io/tenant: {{ . }}
{{- end }}
{{- end }}

{{/*
The worker serves no port. Healthy = an ESTABLISHED TCP connection to the Temporal frontend port, read from
/proc/net/tcp{,6} (same check as Dockerfile.worker's HEALTHCHECK: no client start-up, no temporalio import).
*/}}
{{- define "controlplane.workerProbeCommand" -}}
["python", "-c", "import os, sys; port = int(os.environ['CONTROLPLANE_TEMPORAL_ADDRESS'].rsplit(':', 1)[1]); rows = [line.split() for f in ('/proc/net/tcp', '/proc/net/tcp6') if os.path.exists(f) for line in open(f).read().splitlines()[1:]]; sys.exit(0 if any(int(r[2].rsplit(':', 1)[1], 16) == port and r[3] == '01' for r in rows) else 1)"]
{{- end }}

{{/* The runtime's environment contract (docs/runtime.md): (dict "root" $ "service" "controlplane-api" "role" "<vault role>" "taskQueue" "q" "namespace" "ns" "tenant" "") */}}
{{- define "controlplane.env" -}}
{{- $v := .root.Values }}
- name: CONTROLPLANE_DB_HOST
  value: {{ $v.config.database.host | quote }}
- name: CONTROLPLANE_DB_PORT
  value: {{ $v.config.database.port | quote }}
- name: CONTROLPLANE_DB_NAME
  value: {{ $v.config.database.name | quote }}
- name: CONTROLPLANE_DB_USER
  value: {{ $v.config.database.user | quote }}
- name: CONTROLPLANE_TEMPORAL_ADDRESS
  value: {{ $v.config.temporal.address | quote }}
- name: CONTROLPLANE_TEMPORAL_NAMESPACE
  value: {{ $v.config.temporal.namespace | quote }}
- name: CONTROLPLANE_TASK_QUEUE
  value: {{ .taskQueue | quote }}
- name: CONTROLPLANE_S3_ENDPOINT_URL
  value: {{ $v.config.objectStore.endpointUrl | quote }}
- name: CONTROLPLANE_S3_REGION
  value: {{ $v.config.objectStore.region | quote }}
- name: CONTROLPLANE_EVIDENCE_BUCKET
  value: {{ $v.config.objectStore.evidenceBucket | quote }}
- name: CONTROLPLANE_S3_CREDENTIALS
  value: {{ $v.config.objectStore.credentials | quote }}
- name: CONTROLPLANE_EVIDENCE_LOCK_MODE
  value: {{ $v.config.evidence.lockMode | quote }}
- name: CONTROLPLANE_EVIDENCE_RETENTION_DAYS
  value: {{ $v.config.evidence.retentionDays | quote }}
- name: CONTROLPLANE_EVIDENCE_TRANSIT_KEY
  value: {{ $v.config.evidence.transitKey | default (printf "infractl-evidence-%s" $v.environment) | quote }}
- name: CONTROLPLANE_EVIDENCE_TRANSIT_MOUNT
  value: {{ $v.config.evidence.transitMount | quote }}
- name: CONTROLPLANE_EVIDENCE_CHECKPOINT_EVERY
  value: {{ $v.config.evidence.checkpointEvery | quote }}
- name: VAULT_ADDR
  value: {{ $v.vault.address | quote }}
{{- if $v.vault.caConfigMap.name }}
- name: VAULT_CACERT
  value: {{ printf "/etc/vault-ca/%s" $v.vault.caConfigMap.key | quote }}
{{- end }}
- name: CONTROLPLANE_VAULT_AUTH
  value: kubernetes
- name: CONTROLPLANE_VAULT_ROLE
  value: {{ .role | quote }}
- name: CONTROLPLANE_VAULT_KUBERNETES_MOUNT
  value: {{ $v.vault.authMount | quote }}
- name: CONTROLPLANE_VAULT_KV_MOUNT
  value: {{ $v.vault.kvMount | quote }}
- name: CONTROLPLANE_VAULT_JWT_PATH
  value: /var/run/secrets/vault/token
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.config.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "deployment.environment=%s,service.namespace=controlplane,service.version=%s,k8s.namespace.name=%s%s" $v.environment .root.Chart.AppVersion .namespace (ternary (printf ",tenant.id=%s" .tenant) "" (ne .tenant "")) | quote }}
{{- end }}

{{/* Volumes every pod mounts: a writable /tmp and the projected Vault-audience service-account token. */}}
{{- define "controlplane.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: vault-token
  projected:
    sources:
      - serviceAccountToken:
          path: token
          audience: {{ .Values.vault.tokenAudience }}
          expirationSeconds: 3600
{{- with .Values.vault.caConfigMap.name }}
- name: vault-ca
  configMap:
    name: {{ . }}
{{- end }}
{{- end }}

{{- define "controlplane.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: vault-token
  mountPath: /var/run/secrets/vault
  readOnly: true
{{- if .Values.vault.caConfigMap.name }}
- name: vault-ca
  mountPath: /etc/vault-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* The egress allowlist, as NetworkPolicy egress rules: exactly .Values.networkPolicy.egress, nothing else. */}}
{{- define "controlplane.egressRules" -}}
{{- range .Values.networkPolicy.egress }}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    {{- toYaml .ports | nindent 4 }}
{{- end }}
{{- end }}

{{/* The ingress rule of the metrics port: from metrics.ingressFrom (the scrapers), to metrics.port only. None when
metrics are off or nobody scrapes. */}}
{{- define "controlplane.metricsIngress" -}}
{{- if and .Values.metrics.enabled .Values.metrics.ingressFrom -}}
- from:
    {{- toYaml .Values.metrics.ingressFrom | nindent 4 }}
  ports:
    - port: {{ .Values.metrics.port }}
      protocol: TCP
{{- end }}
{{- end }}
