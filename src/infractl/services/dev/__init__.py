"""`infractl dev`: the local runtime stack (API, worker, Postgres, Temporal, OpenBao, S3, traces, Prometheus,
Alertmanager and an alert receiver), native or in Docker.

devstack   the entry points cli/dev.py calls (up, status, down, env, logs, fault), dispatching to the stack's mode
contract   the services, their ports and the environment contract of the api and the worker (pure)
statefile  the dev folder, its state file (what `up` started) and its lock
monitoring Prometheus' and Alertmanager's config files, the rule files, reloads; the api's fault switch
native     native mode: processes on loopback, seed and migrate, status, down and purge
compose    Docker mode: `docker compose` with the project's compose.yaml
logs       the native stack's log files: tail and follow
Results: infractl.models.dev.
"""
