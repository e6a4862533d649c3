"""EC2: launch template data echoed as sent."""

from __future__ import annotations

import inspect
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps


def strip_template_tag_specs(template_data: dict[str, Any]) -> None:
    """Drop from LaunchTemplateData the tag specifications of the launch template itself.

    CreateLaunchTemplate's own TagSpecifications (resource type "launch-template", where the provider puts the
    template's tags and default_tags) tag the template; moto also copies them into the version's
    LaunchTemplateData, where AWS accepts no "launch-template" entry, so the provider sees a tag_specifications
    block nobody wrote.
    """
    specs = template_data.get("TagSpecifications")
    if not isinstance(specs, list):
        return
    kept = [s for s in specs if (s or {}).get("ResourceType") != "launch-template"]
    if kept:
        template_data["TagSpecifications"] = kept
    else:
        del template_data["TagSpecifications"]


def apply() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    def wrap(orig: Any) -> Any:
        signature = inspect.signature(orig)

        @wraps(orig)
        def create_launch_template(self: Any, *args: Any, **kwargs: Any) -> Any:
            """Gap: aws_launch_template with tags or default_tags is never idempotent (see strip_template_tag_specs)."""
            strip_template_tag_specs(signature.bind(self, *args, **kwargs).arguments["template_data"])
            return orig(self, *args, **kwargs)

        return create_launch_template

    replace(LaunchTemplateBackend, "create_launch_template", wrap)
