{{/*
otel-collector's own snippets. Names, labels, the image reference and the restricted securityContexts come from the
library chart helm/common (charts/common): common.names.{fullname,component}, common.labels.{standard,matchLabels},
common.images.digestRef, common.securityContext.{pod,container}.
*/}}

{{/*
The collector configuration. Resource attributes (deployment.environment, k8s.cluster.name, cloud.region,
service.namespace) are upserted on every signal by one `resource` processor, so traces, metrics and logs of one
service share the same resource and correlate; the SDKs' own service.name / service.instance.id are kept.
*/}}
{{- define "otel-collector.config" -}}
{{- $v := .Values }}
{{- $attrs := list }}
{{- range $k := keys $v.resourceAttributes | sortAlpha }}
{{- $attrs = append $attrs (dict "key" $k "value" (get $v.resourceAttributes $k) "action" "upsert") }}
{{- end }}
{{- $exporters := dict }}
{{- $pipelines := dict }}
{{- range $signal := list "traces" "metrics" "logs" }}
{{- $sig := get $v.pipelines $signal }}
{{- if $sig.exporters }}
{{- $names := list }}
{{- range $i, $e := $sig.exporters }}
{{- $name := printf "%s/%s-%d" $e.type $signal $i }}
{{- $_ := set $exporters $name $e.config }}
{{- $names = append $names $name }}
{{- end }}
{{- $receivers := list "otlp" }}
{{- if and (eq $signal "metrics") $v.scrape }}
{{- $receivers = append $receivers "prometheus" }}
{{- end }}
{{- $_ := set $pipelines $signal (dict "receivers" $receivers "processors" (list "memory_limiter" "resource" "batch") "exporters" $names) }}
{{- end }}
{{- end }}
{{- $receivers := dict "otlp" (dict "protocols" (dict "grpc" (dict "endpoint" "${env:MY_POD_IP}:4317") "http" (dict "endpoint" "${env:MY_POD_IP}:4318"))) }}
{{- if and $v.scrape $v.pipelines.metrics.exporters }}
{{- $jobs := list }}
{{- range $s := $v.scrape }}
{{- $jobs = append $jobs (include "otel-collector.scrapeJob" $s | fromYaml) }}
{{- end }}
{{- $_ := set $receivers "prometheus" (dict "config" (dict "scrape_configs" $jobs)) }}
{{- end }}
{{- $config := dict
  "extensions" (dict "health_check" (dict "endpoint" "${env:MY_POD_IP}:13133"))
  "receivers" $receivers
  "processors" (dict
    "memory_limiter" (dict "check_interval" "1s" "limit_percentage" $v.memoryLimiter.limitPercentage "spike_limit_percentage" $v.memoryLimiter.spikeLimitPercentage)
    "batch" (dict "send_batch_size" $v.batch.sendBatchSize "send_batch_max_size" $v.batch.sendBatchMaxSize "timeout" $v.batch.timeout)
    "resource" (dict "attributes" $attrs))
  "exporters" $exporters
  "service" (dict
    "extensions" (list "health_check")
    "telemetry" (dict "logs" (dict "level" $v.logLevel))
    "pipelines" $pipelines)
}}
{{- toYaml $config }}
{{- end }}

{{/*
One Prometheus scrape job of the receiver, from a `scrape` entry:
  - dnsNames: the DNS A records of headless Services (dns_sd_configs), one target per record on `port`;
  - pods: the Kubernetes API's pods (kubernetes_sd_configs, role pod) in pods.namespaces, kept only when they carry
    every pods.matchLabels label, on the container port `port`, and not finished (Succeeded, Failed). Each pod label
    of pods.podLabels becomes the series label it names (e.g. Argo Rollouts' rollouts-pod-template-hash); with
    pods.podIdentity also `namespace` and `pod`. The targets' other labels are the same as a DNS job's: job, and
    instance = <pod IP>:<port>.
The collector expands `$` in its configuration: the relabelling uses Prometheus' defaults (regex (.*), replacement
$1), so no `$` is written.
*/}}
{{- define "otel-collector.scrapeJob" -}}
{{- $job := dict "job_name" .job "scrape_interval" (.interval | default "30s") }}
{{- if .dnsNames }}
{{- $_ := set $job "dns_sd_configs" (list (dict "names" .dnsNames "type" "A" "port" .port)) }}
{{- else }}
{{- $p := .pods }}
{{- $sources := list }}
{{- $regex := list }}
{{- range $k := keys $p.matchLabels | sortAlpha }}
{{- $sources = append $sources (include "otel-collector.podLabelMeta" $k) }}
{{- $regex = append $regex (get $p.matchLabels $k | regexQuoteMeta) }}
{{- end }}
{{- $relabel := list
  (dict "source_labels" $sources "regex" (join ";" $regex) "action" "keep")
  (dict "source_labels" (list "__meta_kubernetes_pod_container_port_number") "regex" (printf "%d" (int .port)) "action" "keep")
  (dict "source_labels" (list "__meta_kubernetes_pod_phase") "regex" "Succeeded|Failed" "action" "drop") }}
{{- if $p.podIdentity }}
{{- $relabel = append $relabel (dict "source_labels" (list "__meta_kubernetes_namespace") "target_label" "namespace") }}
{{- $relabel = append $relabel (dict "source_labels" (list "__meta_kubernetes_pod_name") "target_label" "pod") }}
{{- end }}
{{- range $k := keys ($p.podLabels | default dict) | sortAlpha }}
{{- $relabel = append $relabel (dict "source_labels" (list (include "otel-collector.podLabelMeta" $k)) "target_label" (get $p.podLabels $k)) }}
{{- end }}
{{- $_ := set $job "kubernetes_sd_configs" (list (dict "role" "pod" "namespaces" (dict "names" $p.namespaces))) }}
{{- $_ := set $job "relabel_configs" $relabel }}
{{- end }}
{{- toYaml $job }}
{{- end }}

{{/* The discovery meta label of a pod label: every character outside [a-zA-Z0-9_] becomes `_`, as Prometheus does. */}}
{{- define "otel-collector.podLabelMeta" -}}
{{- printf "__meta_kubernetes_pod_label_%s" (regexReplaceAll "[^a-zA-Z0-9_]" . "_") }}
{{- end }}

{{/* "true" when the receiver runs a `pods` job: the collector then needs its ServiceAccount's token for the API. */}}
{{- define "otel-collector.podDiscovery" -}}
{{- if .Values.pipelines.metrics.exporters }}
{{- range .Values.scrape }}
{{- if .pods }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}
