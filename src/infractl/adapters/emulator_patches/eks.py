"""EKS: node groups without an invented remote_access block, one OIDC issuer per cluster, access and update
configs kept as sent."""

from __future__ import annotations

import inspect
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps


def apply() -> None:
    from moto.eks.models import Cluster, Nodegroup
    from moto.moto_api._internal import mock_random

    def wrap_nodegroup_init(orig: Any) -> Any:
        signature = inspect.signature(orig)

        @wraps(orig)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            """Gap: moto gives a node group created without remoteAccess a default one (ec2SshKey "eksKeypair")
            and a remote-access security group; aws_eks_node_group then plans a replacement on every run.
            """
            orig(self, *args, **kwargs)
            if signature.bind(self, *args, **kwargs).arguments.get("remote_access") is None:
                self.remote_access = None
                self.resources.pop("remoteAccessSecurityGroup", None)

        return __init__

    replace(Nodegroup, "__init__", wrap_nodegroup_init)

    def wrap_cluster_init(orig: Any) -> Any:
        signature = inspect.signature(orig)

        @wraps(orig)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            """Gap: moto computes one OIDC issuer URL per process, so every cluster has the same one and a second
            cluster's aws_iam_openid_connect_provider fails with EntityAlreadyExists. Each cluster gets its own,
            shaped like AWS's: https://oidc.eks.REGION.amazonaws.com/id/ and 32 upper-case hex digits.
            """
            orig(self, *args, **kwargs)
            region = signature.bind(self, *args, **kwargs).arguments["region_name"]
            issuer = f"https://oidc.eks.{region}.amazonaws.com/id/{mock_random.get_random_hex(32).upper()}"
            self.identity = {"oidc": {"issuer": issuer}}

        return __init__

    replace(Cluster, "__init__", wrap_cluster_init)
    apply_request_echo()


def apply_request_echo() -> None:
    """Fields of CreateCluster / CreateNodegroup that moto drops, kept and echoed by Describe*."""
    from moto.eks.responses import EKSResponse

    def wrap_create_cluster(orig: Any) -> Any:
        @wraps(orig)
        def create_cluster(self: Any) -> Any:
            """Gap: moto never stores accessConfig, so DescribeCluster returns none and aws_eks_cluster plans a
            replacement (access_config forces new) on every run. Kept as sent, with AWS's default mode."""
            result = orig(self)
            sent = self._get_param("accessConfig") or {}
            cluster = result.result["cluster"]
            cluster.access_config = {
                "authenticationMode": sent.get("authenticationMode", "CONFIG_MAP"),
                "bootstrapClusterCreatorAdminPermissions": sent.get("bootstrapClusterCreatorAdminPermissions", True),
            }
            return result

        return create_cluster

    def wrap_update_cluster_config(orig: Any) -> Any:
        @wraps(orig)
        def update_cluster_config(self: Any) -> Any:
            """Gap: UpdateClusterConfig's accessConfig (authentication mode) is ignored by moto."""
            result = orig(self)
            sent = self._get_param("accessConfig")
            if sent:
                cluster = self.eks_backend.describe_cluster(name=self._get_param("name"))
                current = dict(getattr(cluster, "access_config", None) or {})
                current.update({k: v for k, v in sent.items() if k == "authenticationMode"})
                cluster.access_config = current
            return result

        return update_cluster_config

    def wrap_create_nodegroup(orig: Any) -> Any:
        @wraps(orig)
        def create_nodegroup(self: Any) -> Any:
            """Gap: moto's CreateNodegroup handler never reads updateConfig, so aws_eks_node_group plans
            `+ update_config` on every run. Kept as sent (AWS's default is maxUnavailable 1)."""
            result = orig(self)
            result.result["nodegroup"].update_config = self._get_param("updateConfig") or {"maxUnavailable": 1}
            return result

        return create_nodegroup

    replace(EKSResponse, "create_cluster", wrap_create_cluster)
    replace(EKSResponse, "update_cluster_config", wrap_update_cluster_config)
    replace(EKSResponse, "create_nodegroup", wrap_create_nodegroup)
