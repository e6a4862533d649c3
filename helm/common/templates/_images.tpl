{{/* An image by digest only, <repository>@<digest> (the charts' schemas refuse a tag): (dict "repository" … "digest" …) */}}
{{- define "common.images.digestRef" -}}
{{- printf "%s@%s" .repository .digest }}
{{- end }}
