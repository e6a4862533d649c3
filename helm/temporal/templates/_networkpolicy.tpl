{{/*
Egress rule to the cluster DNS.
*/}}
{{- define "temporal.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podLabels | nindent 10 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end -}}

{{/*
The egress allowlist from values (one rule per destination). The name is documentation only.
*/}}
{{- define "temporal.allowlistEgress" -}}
{{- range .Values.networkPolicy.egress }}
# {{ .name }}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    {{- range .ports }}
    - port: {{ .port }}
      protocol: {{ default "TCP" .protocol }}
    {{- end }}
{{- end }}
{{- end -}}
