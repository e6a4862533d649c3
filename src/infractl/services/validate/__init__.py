"""`infractl validate` and `infractl cost`: static checks, per-env plans on the emulator, security (checkov), tags,
cost, and the reports.

run.py is the entry point (cli/validate.py calls it); one run goes run.py → static.py (fmt, init + validate, parity)
→ plans.py (one plan per env via planroot.py, tags via tagging.py) → security.py (checkov) → pricing.py (cost), with
runstate.py the state they share and placement.py where each finding belongs; reports.py writes the report files.
changes.py picks the cells for `--changed-since`; costing.py is `infractl cost`.
"""
