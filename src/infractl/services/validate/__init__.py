"""`infractl validate` and `infractl cost`: static checks, per-env plans on the emulator, security (checkov), tags,
cost, and the reports.
"""
