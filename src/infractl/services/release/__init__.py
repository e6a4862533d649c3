"""Releases: build once, promote by digest (the lead's package docstring replaces this one)."""
