"""The Terraform stack graph of `infractl plan|apply|bootstrap|destroy|output` and `infractl state`: the manifest and
its order (graph), runs across the graph (runs), per-stack workspaces, the remote state backend, and reading
Terraform sources.
"""
