"""infractl: the infrastructure layer of the multi-tenant control plane."""

__version__ = "0.1.0"
