"""`infractl gate infra|security ENV` (docs/gates.md): a phase gate whose verdict is computed from machine evidence.

The entry point is `run.evaluate`. `definitions.py` reads gates/<gate>.yaml; each check kind has one place:
`reports.py` (the reports other commands wrote: tests, drills, scan, validate; their age), `live.py` (what the gate
reads when it runs: the ledger's verify, parity), `duties.py` (separation of duties from the account's IAM),
`policy.py` (tenant isolation and sandboxing on the rendered manifests); `verdict.py` writes the verdict's files and
its ledger entry."""
