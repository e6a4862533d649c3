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
{{- $jobs = append $jobs (dict "job_name" $s.job "scrape_interval" ($s.interval | default "30s") "dns_sd_configs" (list (dict "names" $s.dnsNames "type" "A" "port" $s.port))) }}
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
