"""The emulator's access keys per AWS account, shared by the server patch (emulator_patches/iam.py, which maps a key
to its account) and the clients that build provider configurations (services/validate/plans.py), so a client need
not import code that runs inside the moto server.

moto maps an access key to an account only when the key was created through its IAM API; every other key lands in
the default account 123456789012. infractl gives each environment's provider the access key `INFRACTL<account id>`
(20 characters, the shape moto's signature parser accepts).
"""

from __future__ import annotations

import re

ACCOUNT_KEY = re.compile(r"INFRACTL(\d{12})")


def account_access_key(account_id: str) -> str:
    """The emulator access key that works in `account_id`."""
    return f"INFRACTL{account_id}"
