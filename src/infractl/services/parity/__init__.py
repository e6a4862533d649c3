"""`infractl parity`: every cloud's stacks against the shared stack contracts (check.py), the parity matrix
docs/parity.md (matrix.py); run.py is the entry point."""
