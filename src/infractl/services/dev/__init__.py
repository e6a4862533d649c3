"""`infractl dev`: the local runtime stack (API, worker, Postgres, Temporal, OpenBao, S3, traces), native or in
Docker.
"""
