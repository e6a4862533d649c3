"""KMS: multi-Region replicas of their own, imported key material, the rotation period."""

from __future__ import annotations

import base64
import json
import os
from copy import copy
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps

_IMPORT_KEYS: dict[str, Any] = {}  # one RSA wrapping key per emulator process, made on first use


def replica_of(primary: Any, region: str, policy: str | None, description: str | None) -> Any:
    """A replica of a multi-Region `primary` key in `region`: its own policy, description, grants, aliases and
    multi-Region configuration (type REPLICA). The primary lists the replica; it stays PRIMARY."""
    replica = copy(primary)
    replica.region = region
    replica.arn = primary.arn.replace(f":kms:{primary.region}:", f":kms:{region}:", 1)
    replica.policy = policy or primary.generate_default_policy()
    replica.description = description or ""
    replica.grants, replica.aliases, replica.rotations = {}, {}, []
    config = primary.multi_region_configuration
    entry = {"Arn": replica.arn, "Region": region}
    if entry not in config["ReplicaKeys"]:
        config["ReplicaKeys"].append(entry)
    replica.multi_region_configuration = {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": dict(config["PrimaryKey"]),
        "ReplicaKeys": config["ReplicaKeys"],  # one list for the whole set, as DescribeKey shows in every region
    }
    if primary.origin == "EXTERNAL":  # each replica of an external key gets its own copy of the material
        replica.key_state, replica.enabled = "PendingImport", False
        replica.expiration_model = replica.valid_to = None
    return replica


def _wrapping_key() -> Any:
    if "rsa" not in _IMPORT_KEYS:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _IMPORT_KEYS["rsa"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _IMPORT_KEYS["rsa"]


def apply() -> None:
    from cryptography.hazmat.primitives import serialization
    from moto.kms.exceptions import NotFoundException
    from moto.kms.models import Key, KmsBackend, kms_backends
    from moto.kms.responses import KmsResponse

    def replicate_key(self: Any) -> str:
        """Gap: moto's ReplicateKey ignores Policy, Description and Tags (the replica gets the primary's policy),
        and the replica shares the primary's multi-Region configuration, so describing the replica flips the
        primary to REPLICA: `aws_kms_replica_key` and the primary's `aws_kms_key` never plan clean."""
        key_id = self._get_param("KeyId")
        self._validate_key_id(key_id)
        primary = self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]
        region = self._get_param("ReplicaRegion")
        replica = replica_of(primary, region, self._get_param("Policy"), self._get_param("Description"))
        target = kms_backends[self.current_account][region]
        target.keys[replica.id] = replica
        tags = self._get_param("Tags") or []
        if tags:
            target.tag_resource(replica.id, tags)
        return json.dumps(
            {
                "ReplicaKeyMetadata": replica.to_dict()["KeyMetadata"],
                "ReplicaPolicy": replica.policy,
                "ReplicaTags": tags,
            }
        )

    replace(KmsResponse, "replicate_key", lambda _orig: replicate_key)

    def _key(self: Any) -> Any:
        key_id = self._get_param("KeyId")
        self._validate_cmk_id(key_id)
        return self.kms_backend.keys[self.kms_backend.get_key_id(key_id)]

    def get_parameters_for_import(self: Any) -> str:
        """Gap: moto lacks GetParametersForImport, so no `aws_kms_external_key` with key material can be created.
        Here: an RSA-2048 wrapping key (one per emulator) and an import token naming the key."""
        key = _key(self)
        public = (
            _wrapping_key()
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        token = json.dumps({"key": key.id, "nonce": os.urandom(8).hex()}).encode()
        return json.dumps(
            {
                "KeyId": key.arn,
                "ImportToken": base64.b64encode(token).decode(),
                "PublicKey": base64.b64encode(public).decode(),
                "ParametersValidTo": key.creation_date + 86400,
            }
        )

    def import_key_material(self: Any) -> str:
        """Gap: moto lacks ImportKeyMaterial. The key material is unwrapped (so a wrong wrapping fails as on AWS)
        and the key becomes Enabled with the expiration model and date that were asked for."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        key = _key(self)
        if key.origin != "EXTERNAL":
            raise NotFoundException(f"{key.arn} is not an EXTERNAL key")  # AWS: UnsupportedOperationException
        wrapped = base64.b64decode(self._get_param("EncryptedKeyMaterial"))
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        key.key_material = _wrapping_key().decrypt(wrapped, oaep)
        key.expiration_model = self._get_param("ExpirationModel") or "KEY_MATERIAL_EXPIRES"
        key.valid_to = self._get_param("ValidTo") if key.expiration_model == "KEY_MATERIAL_EXPIRES" else None
        key.key_state, key.enabled = "Enabled", True
        return "{}"

    def delete_imported_key_material(self: Any) -> str:
        """Gap: moto lacks DeleteImportedKeyMaterial: the key goes back to PendingImport."""
        key = _key(self)
        key.key_state, key.enabled = "PendingImport", False
        key.expiration_model = key.valid_to = None
        return "{}"

    for name, method in (
        ("get_parameters_for_import", get_parameters_for_import),
        ("import_key_material", import_key_material),
        ("delete_imported_key_material", delete_imported_key_material),
    ):
        replace(KmsResponse, name, lambda _orig, method=method: method)

    def wrap_create(orig: Any) -> Any:
        @wraps(orig)
        def create_key(self: Any, *args: Any, **kwargs: Any) -> Any:
            """Gap: an EXTERNAL key is Enabled at once on moto; on AWS it waits for its material (PendingImport)."""
            key = orig(self, *args, **kwargs)
            if key.origin == "EXTERNAL":
                key.key_state, key.enabled = "PendingImport", False
            return key

        return create_key

    replace(KmsBackend, "create_key", wrap_create)

    def wrap_to_dict(orig: Any) -> Any:
        @wraps(orig)
        def to_dict(self: Any) -> dict[str, Any]:
            """Gap: KeyMetadata lacks ExpirationModel and ValidTo of imported key material."""
            data = orig(self)
            model = getattr(self, "expiration_model", None)
            if model:
                data["KeyMetadata"]["ExpirationModel"] = model
            if getattr(self, "valid_to", None) is not None:
                data["KeyMetadata"]["ValidTo"] = self.valid_to
            return data

        return to_dict

    replace(Key, "to_dict", wrap_to_dict)

    def wrap_enable_rotation(orig: Any) -> Any:
        @wraps(orig)
        def enable_key_rotation(self: Any) -> str:
            """Gap: moto drops EnableKeyRotation's RotationPeriodInDays (AWS default 365) and GetKeyRotationStatus
            does not return it: `aws_kms_key` with `rotation_period_in_days` never plans clean."""
            answer = orig(self)
            key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
            key.rotation_period_in_days = int(self._get_param("RotationPeriodInDays") or 365)
            return answer

        return enable_key_rotation

    def wrap_rotation_status(orig: Any) -> Any:
        @wraps(orig)
        def get_key_rotation_status(self: Any) -> str:
            """See enable_key_rotation: the period is returned while rotation is on."""
            answer = json.loads(orig(self))
            key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
            if answer.get("KeyRotationEnabled"):
                answer["RotationPeriodInDays"] = getattr(key, "rotation_period_in_days", 365)
                answer.setdefault("KeyId", key.id)
            return json.dumps(answer)

        return get_key_rotation_status

    replace(KmsResponse, "enable_key_rotation", wrap_enable_rotation)
    replace(KmsResponse, "get_key_rotation_status", wrap_rotation_status)
