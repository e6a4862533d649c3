"""SLOs as code (docs/slo.md): one definition (slo/*.yaml + the env model's `slo:`) -> Prometheus recording and
alerting rules, Grafana dashboards and runbook links.

The API (used by `infractl slo`, by render for the charts and by the dev stack for Prometheus):
`load(project_root, env) -> SloSet` (definitions.py), `rule_groups(sloset)` (rules.py), `dashboards(sloset)`
(dashboards.py), `write(sloset, out_dir)` (output.py); the entry of `infractl slo render` is output.render.
Window math: windows.py."""

from __future__ import annotations

from infractl.services.slo.dashboards import dashboards
from infractl.services.slo.definitions import SLO_DIR, defined, load
from infractl.services.slo.output import write, write_rules
from infractl.services.slo.rules import rule_groups

__all__ = ["SLO_DIR", "dashboards", "defined", "load", "rule_groups", "write", "write_rules"]
