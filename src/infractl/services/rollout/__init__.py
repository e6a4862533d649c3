"""Progressive delivery (docs/delivery.md): `infractl rollout`. The entry points the CLI calls are in local.py
(`run`, `status`, `abort`, `promote`); analysis.py judges a step from the SLO definitions (and gives the chart its
AnalysisTemplate values)."""
