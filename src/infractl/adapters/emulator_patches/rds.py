"""RDS: a DbiResourceId per instance, AWS's default CA, Source=user on parameters, Performance Insights echoed, the
false settings of a point-in-time restore honoured."""

from __future__ import annotations

import string
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps

PI_DEFAULT_RETENTION_DAYS = 7
# The CA RDS gives a new DB instance created without CACertificateIdentifier (every commercial region, since 2024).
DEFAULT_CA = "rds-ca-rsa2048-g1"
_RESOURCE_ID_CHARS = string.ascii_uppercase + string.digits
# boolean settings of RestoreDBInstanceToPointInTime that moto drops when false
RESTORE_FLAGS = ("deletion_protection", "multi_az", "publicly_accessible")


def new_dbi_resource_id() -> str:
    """A resource id shaped like AWS's: "db-" and 26 upper-case letters and digits."""
    from moto.moto_api._internal import mock_random

    return "db-" + "".join(mock_random.choice(_RESOURCE_ID_CHARS) for _ in range(26))


def _sync_performance_insights(db: Any) -> None:
    """AWS reports retention (7 days by default) and key only while Performance Insights is enabled."""
    if db.__dict__.get("enable_performance_insights"):
        if not db.__dict__.get("performance_insights_retention_period"):
            db.performance_insights_retention_period = PI_DEFAULT_RETENTION_DAYS
    else:
        db.enable_performance_insights = False
        db.performance_insights_retention_period = None
        db.performance_insights_kms_key_id = None


def apply() -> None:
    from moto.rds.exceptions import DBParameterGroupNotFoundError
    from moto.rds.models import DBClusterParameterGroup, DBInstance, DBParameterGroup, RDSBackend
    from moto.rds.responses import RDSResponse

    def wrap_init(orig: Any) -> Any:
        @wraps(orig)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            """Gaps: moto gives every DB instance the same DbiResourceId (db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U), so the
            provider, which reads instances by that id, finds two once a second one exists; and it drops the
            Performance Insights arguments, so they never converge. Both are set here.

            Gap: moto gives an instance created without CACertificateIdentifier the CA "rds-ca-default", which does
            not exist; RDS gives rds-ca-rsa2048-g1. The aws provider does not send the CA on create: it compares its
            `ca_cert_identifier` with the created instance's and, when they differ, sends a second ModifyDBInstance
            and waits for it to settle (80 s: a 60 s delay and three polls 10 s apart), where AWS needs none.
            """
            orig(self, *args, **kwargs)
            if not kwargs.get("ca_certificate_identifier"):
                self.ca_certificate_identifier = DEFAULT_CA
            self.dbi_resource_id = new_dbi_resource_id()
            self.enable_performance_insights = bool(kwargs.get("enable_performance_insights"))
            self.performance_insights_kms_key_id = kwargs.get("performance_insights_kms_key_id")
            self.performance_insights_retention_period = kwargs.get("performance_insights_retention_period")
            _sync_performance_insights(self)

        return __init__

    replace(DBInstance, "__init__", wrap_init)

    def wrap_update(orig: Any) -> Any:
        @wraps(orig)
        def update(self: Any, *args: Any, **kwargs: Any) -> None:
            """ModifyDBInstance sets the Performance Insights arguments as attributes; keep them consistent."""
            orig(self, *args, **kwargs)
            _sync_performance_insights(self)

        return update

    replace(DBInstance, "update", wrap_update)
    # DescribeDBInstances serializes PerformanceInsightsEnabled from this attribute name.
    replace(
        DBInstance,
        "performance_insights_enabled",
        lambda _orig: property(lambda self: bool(self.__dict__.get("enable_performance_insights"))),
    )

    def wrap_update_parameters(orig: Any) -> Any:
        @wraps(orig)
        def update_parameters(self: Any, new_parameters: Any) -> None:
            """Gap: moto stores the parameters a user sets without Source=user; the provider keeps only parameters
            with Source=user (and system ones in its config), so aws_db_parameter_group never converges.
            """
            new_parameters = list(new_parameters)
            orig(self, new_parameters)
            for parameter in new_parameters:
                self.parameters[parameter["ParameterName"]]["Source"] = "user"

        return update_parameters

    replace(DBParameterGroup, "update_parameters", wrap_update_parameters)
    replace(DBClusterParameterGroup, "update_cluster_parameters", wrap_update_parameters)

    def describe_db_parameters(self: Any) -> Any:
        """DescribeDBParameters honouring the Source filter (moto stores only parameters a user set)."""
        from moto.core.responses import ActionResult

        name = self.params.get("DBParameterGroupName")
        groups = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
        if not groups:
            raise DBParameterGroupNotFoundError(name)
        parameters = list(groups[0].parameters.values())
        source = self.params.get("Source")
        if source:
            parameters = [p for p in parameters if p.get("Source", "user") == source]
        return ActionResult({"Parameters": parameters})

    replace(RDSResponse, "describe_db_parameters", lambda _orig: describe_db_parameters)

    def wrap_restore(orig: Any) -> Any:
        @wraps(orig)
        def restore_db_instance_to_point_in_time(
            self: Any, source_db_identifier: str, target_db_identifier: str, overrides: dict[str, Any]
        ) -> Any:
            """Gap: moto copies the source's settings and applies only the truthy ones of the request, so a restore
            of a deletion-protected instance with DeletionProtection=False (or MultiAZ/PubliclyAccessible=False)
            keeps the source's True, and the copy can never be deleted. A false setting asked for is set here.
            (Its DbiResourceId is the copy's own: DBInstance.__init__ above.)"""
            instance = orig(self, source_db_identifier, target_db_identifier, overrides)
            for name in RESTORE_FLAGS:
                if overrides.get(name) is False:
                    setattr(instance, name, False)
            return instance

        return restore_db_instance_to_point_in_time

    replace(RDSBackend, "restore_db_instance_to_point_in_time", wrap_restore)
