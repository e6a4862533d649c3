"""IAM/accounts: one emulator serving several AWS accounts.

moto maps an access key to an account only when the key was created through its IAM API; every other key lands in
the default account 123456789012. infractl gives each environment's provider the access key `INFRACTL<account id>`
(20 characters, the shape moto's signature parser accepts): `infractl validate` plans staging and prod, whose
`allowed_account_ids` are not moto's default, so such a key names its account, as a role in that account would in AWS.
"""

from __future__ import annotations

from typing import Any

from infractl.adapters.emulator_accounts import ACCOUNT_KEY
from infractl.adapters.emulator_patches import replace, wraps

__all__ = ["apply"]


def apply() -> None:
    from moto.iam import models

    def make(orig: Any) -> Any:
        @wraps(orig)
        def get_account_id_from(access_key: str) -> str:
            """INFRACTL<12 digits> works in that account (moto maps only keys created through its IAM API)."""
            match = ACCOUNT_KEY.fullmatch(access_key)
            return match.group(1) if match else orig(access_key)

        return get_account_id_from

    replace(models, "get_account_id_from", make)
