"""ElastiCache: cache subnet groups can be changed and deleted."""

from __future__ import annotations

from typing import Any

from infractl.adapters.emulator_patches import replace


def apply() -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound
    from moto.elasticache.models import CacheSubnetGroup
    from moto.elasticache.responses import ElastiCacheResponse

    def _group(self: Any) -> Any:
        name = self._get_param("CacheSubnetGroupName")
        groups = self.elasticache_backend.cache_subnet_groups
        if name not in groups:
            raise CacheSubnetGroupNotFound(name)
        return name, groups

    def delete_cache_subnet_group(self: Any) -> Any:
        """Gap: moto lacks DeleteCacheSubnetGroup: destroying `aws_elasticache_subnet_group` (a public VPC module
        creates one) hung in SDK retries of its 500."""
        name, groups = _group(self)
        group = groups.pop(name)
        self.elasticache_backend.tagging_service.delete_all_tags_for_resource(group.arn)
        return EmptyResult()

    def modify_cache_subnet_group(self: Any) -> Any:
        """Gap: moto lacks ModifyCacheSubnetGroup: a changed description or subnet list could not be applied."""
        name, groups = _group(self)
        old = groups[name]
        groups[name] = group = CacheSubnetGroup(  # its subnets (and their AZs) are derived from subnet_ids
            account_id=self.current_account,
            region_name=self.region,
            cache_subnet_group_name=name,
            cache_subnet_group_description=self._get_param("CacheSubnetGroupDescription")
            or old.cache_subnet_group_description,
            subnet_ids=self._get_param("SubnetIds") or old.subnet_ids,
            tags=old.tags,
        )
        return ActionResult({"CacheSubnetGroup": group})

    replace(ElastiCacheResponse, "delete_cache_subnet_group", lambda _orig: delete_cache_subnet_group)
    replace(ElastiCacheResponse, "modify_cache_subnet_group", lambda _orig: modify_cache_subnet_group)
