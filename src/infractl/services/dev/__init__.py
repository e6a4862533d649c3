"""`infractl dev`: the local runtime stack (API, worker, Postgres, Temporal, OpenBao, S3, traces), native or in
Docker.

devstack   the entry points cli/dev.py calls (up, status, down, env, logs), dispatching to the stack's mode
contract   the services, their ports and the environment contract of the api and the worker (pure)
statefile  the dev folder, its state file (what `up` started) and its lock
native     native mode: processes on loopback, seed and migrate, status, down and purge
compose    Docker mode: `docker compose` with the project's compose.yaml
logs       the native stack's log files: tail and follow
Results: infractl.models.dev.
"""
