"""The reference runtime of the control plane: API, Temporal worker, adapters (docs/runtime.md)."""

__version__ = "0.1.0"
