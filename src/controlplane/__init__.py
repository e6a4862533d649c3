"""The reference runtime of the control plane: API, Temporal worker, adapters (docs/runtime.md)."""
