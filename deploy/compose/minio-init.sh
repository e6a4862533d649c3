#!/bin/sh
# compose one-shot `minio-init` (MinIO client image), idempotent: the evidence bucket (versioned) and the
# application's own MinIO user, limited to that bucket by deploy/compose/minio-evidence-policy.json. The seed then
# stores that user's keys in OpenBao (secret/controlplane/object-store), where the api and the worker read them.
# Credentials come from the dev-secrets volume (deploy/compose/bootstrap.sh) and travel in MC_HOST_dev, not argv.
set -eu
secrets=/run/dev-secrets
bucket="${CONTROLPLANE_EVIDENCE_BUCKET:?}"
region="${CONTROLPLANE_S3_REGION:?}"
app_user="$(cat "$secrets/minio-app-access-key")"
MC_HOST_dev="http://$(cat "$secrets/minio-root-user"):$(cat "$secrets/minio-root-password")@minio:9000"
export MC_HOST_dev
export MC_CONFIG_DIR=/tmp/mc

mc mb --ignore-existing --region "$region" "dev/$bucket"
mc version enable "dev/$bucket"
mc admin policy create dev controlplane-evidence /init/minio-evidence-policy.json
# `user add` on an existing user resets its secret to the one in dev-secrets: the two stay in step.
mc admin user add dev "$app_user" "$(cat "$secrets/minio-app-secret-key")"
if ! mc admin policy attach dev controlplane-evidence --user "$app_user" 2>/tmp/attach.err; then
    grep -qi "already" /tmp/attach.err || { cat /tmp/attach.err >&2; exit 1; }
fi
echo "minio-init: bucket $bucket and user $app_user ready"
