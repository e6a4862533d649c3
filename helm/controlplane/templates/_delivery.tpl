{{/*
Progressive delivery of the api (delivery.enabled): the Rollout's strategy (workloads.yaml renders the Rollout in
place of the api's Deployment) and the names delivery.yaml gives its objects. Needs the Argo Rollouts controller
(v1.8 or later: consecutiveSuccessLimit) and its CRDs in the cluster; docs/delivery.md#kubernetes-form-argo-rollouts.
*/}}

{{/* The api's AnalysisTemplate, <fullname>-api-slo: $ */}}
{{- define "controlplane.analysisTemplate" -}}
{{- printf "%s-slo" (include "common.names.component" (dict "root" . "component" "api")) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The blue-green preview Service, <fullname>-api-preview: $ */}}
{{- define "controlplane.previewService" -}}
{{- printf "%s-preview" (include "common.names.component" (dict "root" . "component" "api")) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A RolloutAnalysis: the api's AnalysisTemplate and its arguments (delivery.analysis.args, each one the pod
template hash of the Stable or Latest ReplicaSet): $ */}}
{{- define "controlplane.rolloutAnalysis" -}}
templates:
  - templateName: {{ include "controlplane.analysisTemplate" . }}
args:
  {{- range .Values.delivery.analysis.args }}
  - name: {{ .name }}
    valueFrom:
      podTemplateHashValue: {{ .podTemplateHashValue }}
  {{- end }}
{{- end }}

{{/*
The Rollout's spec.strategy: $.
canary: a plain canary, no traffic router and no canary/stable Service pair: the weight is the share of the api's
replicas running the new version, and the api Service sends each pod its share. Each weight of delivery.steps is
followed by an inline analysis step: the AnalysisRun takes a sample every analysis.interval and the step is done
after analysis.count passing samples in a row; a breach aborts the rollout (back to the stable pods), too many
inconclusive samples pause it. Not a background analysis with a pause per step: Argo ends a background run after its
`count` samples, and the later steps would then pass on time alone.
blue-green: the new pods behind the preview Service <api>-preview until they are ready, then promoted
(autoPromotionEnabled) and judged under all the traffic by the post-promotion analysis; the old pods stay up until it
passes (no scaleDownDelaySeconds: Argo would cancel a post-promotion run still sampling at that delay and keep the
new version unjudged), and a failed run switches the active Service back to them. A pre-promotion analysis is not
used: the preview Service carries no production traffic, so its samples would only ever be inconclusive.
*/}}
{{- define "controlplane.rolloutStrategy" -}}
{{- $d := .Values.delivery }}
{{- if eq $d.strategy "canary" }}
{{- $last := 0 }}
{{- range $d.steps }}
{{- if le (int .) $last }}
{{- fail (printf "delivery.steps %v: the weights must increase" $d.steps) }}
{{- end }}
{{- $last = int . }}
{{- end }}
{{- if ne $last 100 }}
{{- fail (printf "delivery.steps %v: the last weight must be 100" $d.steps) }}
{{- end }}
canary:
  steps:
    {{- range $d.steps }}
    - setWeight: {{ int . }}
    - analysis:
        {{- include "controlplane.rolloutAnalysis" $ | nindent 8 }}
    {{- end }}
{{- else }}
blueGreen:
  activeService: {{ include "common.names.component" (dict "root" . "component" "api") }}
  previewService: {{ include "controlplane.previewService" . }}
  autoPromotionEnabled: true
  postPromotionAnalysis:
    {{- include "controlplane.rolloutAnalysis" . | nindent 4 }}
{{- end }}
{{- end }}
