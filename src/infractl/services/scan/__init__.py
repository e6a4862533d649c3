"""`infractl scan`: the security gates as one command. Entry point: `run.py: run`.

One module per gate: `openapi.py` (breaking API changes, with `oas30.py` to feed OpenAPI 3.1 to the differ),
`secrets.py` (the repository against its baseline; `layers.py` for image layers), `workflows.py` (zizmor and
actionlint), `dependencies.py` (pip-audit); `tools.py` finds the tools, `reports.py` writes scan.json and scan.md.
"""
