"""Capabilities: plain functions taking their collaborators, returning models, raising InfractlError."""
