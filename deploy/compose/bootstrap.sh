#!/bin/sh
# compose one-shot `dev-bootstrap` (busybox), idempotent. Two jobs, both before anything else starts:
#  1. Per-checkout random dev credentials in the `dev-secrets` volume, created once and kept (the Postgres data
#     volume was initialised with the first password; `docker compose down -v` removes both together). Services read
#     them from files, so no credential is a value in compose.yaml or in `docker inspect` of a container's env.
#     The files are world-readable (0444): the volume is mounted only into the services that need them, which run
#     as different UIDs (postgres 999, the seed 10001, minio root).
#  2. A static busybox in the `probe-tools` volume, for the health check of an image that ships no shell and no HTTP
#     client (the OpenTelemetry Collector image is FROM scratch).
set -eu
umask 022
dir=/run/dev-secrets

secret() {
    file="$dir/$1"
    if [ ! -s "$file" ]; then
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file.tmp"
        mv "$file.tmp" "$file"
        echo "dev-bootstrap: created $1"
    fi
    chmod 0444 "$file"
}

fixed() {
    printf '%s' "$2" > "$dir/$1.tmp"
    mv "$dir/$1.tmp" "$dir/$1"
    chmod 0444 "$dir/$1"
}

secret postgres-admin-password
secret minio-root-password
secret minio-app-secret-key
fixed minio-root-user minio-admin
fixed minio-app-access-key controlplane-app

cp /bin/busybox /probe/busybox.tmp
mv /probe/busybox.tmp /probe/busybox
chmod 0555 /probe/busybox
echo "dev-bootstrap: done"
