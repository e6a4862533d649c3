"""`infractl render` and `infractl deploy`: chart values from the env model, Helm renders, and deploys.

render    the entry points cli/render.py calls: render, deploy, state_outputs (--from-state)
values    each chart's values for one environment: ci layer, env model, applied stacks' outputs
network   the NetworkPolicy rules: peers, the control plane's egress allowlist, the collector's exporter egress
capacity  whether the platform's pods fit a system node
charts    the charts (ChartSpec, CHARTS in install order), their namespaces and paths
Results: infractl.models.render.
"""
