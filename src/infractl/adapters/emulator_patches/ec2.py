"""EC2: launch template data echoed as sent; customer gateway device names; DHCP options' tags; VPC endpoints'
subnet configuration, DNS options and IP address type."""

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


def subnet_ipv4s(configurations: list[dict[str, Any]] | None) -> dict[str, str]:
    """SubnetConfigurations of CreateVpcEndpoint/ModifyVpcEndpoint as {subnet id: IPv4 address asked for}."""
    return {c["SubnetId"]: c["Ipv4"] for c in configurations or [] if c.get("SubnetId") and c.get("Ipv4")}


def dns_options(requested: dict[str, Any] | None, service_name: str, current: dict[str, Any] | None) -> dict[str, Any]:
    """An interface endpoint's DnsOptions as AWS describes them: the record type (default ipv4) and, for S3 (the
    one service with both endpoint types), whether private DNS serves only the inbound resolver endpoint."""
    options = dict(current or {"DnsRecordIpType": "ipv4"})
    for key in ("DnsRecordIpType", "PrivateDnsOnlyForInboundResolverEndpoint"):
        if (requested or {}).get(key) is not None:
            value = requested[key]  # type: ignore[index]
            options[key] = str(value).lower() == "true" if key.startswith("Private") else value
    if service_name.endswith(".s3"):
        options.setdefault("PrivateDnsOnlyForInboundResolverEndpoint", False)
    return options


def apply() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplateBackend
    from moto.ec2.responses.customer_gateways import CustomerGateways
    from moto.ec2.responses.dhcp_options import DHCPOptions
    from moto.ec2.responses.vpcs import VPCs
    from moto.ec2.utils import random_private_ip

    def wrap(orig: Any) -> Any:
        signature = inspect.signature(orig)

        @wraps(orig)
        def create_launch_template(self: Any, *args: Any, **kwargs: Any) -> Any:
            """Gap: aws_launch_template with tags or default_tags is never idempotent (see strip_template_tag_specs)."""
            strip_template_tag_specs(signature.bind(self, *args, **kwargs).arguments["template_data"])
            return orig(self, *args, **kwargs)

        return create_launch_template

    replace(LaunchTemplateBackend, "create_launch_template", wrap)

    def wrap_customer_gateway(orig: Any) -> Any:
        @wraps(orig)
        def create_customer_gateway(self: Any) -> Any:
            """Gap: moto drops CreateCustomerGateway's DeviceName (and CertificateArn): `aws_customer_gateway` with
            `device_name` is replaced on every plan."""
            result = orig(self)
            gateway = result.result["CustomerGateway"]
            gateway.device_name = self._get_param("DeviceName")
            gateway.certificate_arn = self._get_param("CertificateArn")
            return result

        return create_customer_gateway

    replace(CustomerGateways, "create_customer_gateway", wrap_customer_gateway)

    def place(backend: Any, endpoint: Any, ipv4s: dict[str, str]) -> None:
        """Give each of the endpoint's network interfaces the address asked for in its subnet, else one in the
        subnet's range (moto picked any 10.x address, outside the subnet)."""
        for eni_id in endpoint.network_interface_ids:
            eni = backend.get_network_interface(eni_id)
            wanted = ipv4s.get(eni.subnet.id)
            if (
                wanted is None
                and eni.private_ip_address
                and eni.subnet.cidr_block
                and not getattr(eni, "_placed", False)
            ):
                wanted = random_private_ip(eni.subnet.cidr_block)
            if wanted is not None:
                eni.private_ip_address = wanted
                eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": wanted}]
                eni._placed = True

    def wrap_create_endpoint(orig: Any) -> Any:
        @wraps(orig)
        def create_vpc_endpoint(self: Any) -> Any:
            """Gap: moto drops SubnetConfigurations, DnsOptions and IpAddressType of an interface endpoint, so
            `aws_vpc_endpoint` with `subnet_configuration` or `dns_options` never plans clean."""
            result = orig(self)
            endpoint = result.result["VpcEndpoint"]
            if (endpoint.vpc_endpoint_type or "").lower() == "interface":
                place(self.ec2_backend, endpoint, subnet_ipv4s(self._get_param("SubnetConfigurations")))
                endpoint.dns_options = dns_options(self._get_param("DnsOptions"), endpoint.service_name, None)
                endpoint.ip_address_type = self._get_param("IpAddressType") or "ipv4"
            return result

        return create_vpc_endpoint

    def wrap_modify_endpoint(orig: Any) -> Any:
        @wraps(orig)
        def modify_vpc_endpoint(self: Any) -> Any:
            """See create_vpc_endpoint: ModifyVpcEndpoint's DnsOptions, IpAddressType, PrivateDnsEnabled and
            SubnetConfigurations are applied too (new subnets get their interfaces as on create)."""
            endpoint = self.ec2_backend.vpc_end_points.get(self._get_param("VpcEndpointId"))
            added = self._get_param("AddSubnetIds", [])
            result = orig(self)
            if endpoint is not None and (endpoint.vpc_endpoint_type or "").lower() == "interface":
                for subnet_id in added:
                    if not any(
                        self.ec2_backend.get_network_interface(e).subnet.id == subnet_id
                        for e in endpoint.network_interface_ids
                    ):
                        eni = self.ec2_backend.create_network_interface(subnet_id, random_private_ip())
                        endpoint.network_interface_ids.append(eni.id)
                removed = set(self._get_param("RemoveSubnetIds", []))
                endpoint.network_interface_ids = [
                    e
                    for e in endpoint.network_interface_ids
                    if self.ec2_backend.get_network_interface(e).subnet.id not in removed
                ]
                place(self.ec2_backend, endpoint, subnet_ipv4s(self._get_param("SubnetConfigurations")))
                if self._get_param("DnsOptions"):
                    endpoint.dns_options = dns_options(
                        self._get_param("DnsOptions"), endpoint.service_name, getattr(endpoint, "dns_options", None)
                    )
                if self._get_param("IpAddressType"):
                    endpoint.ip_address_type = self._get_param("IpAddressType")
                if self._get_param("PrivateDnsEnabled") is not None:
                    endpoint.private_dns_enabled = self._get_bool_param("PrivateDnsEnabled")
            return result

        return modify_vpc_endpoint

    replace(VPCs, "create_vpc_endpoint", wrap_create_endpoint)
    replace(VPCs, "modify_vpc_endpoint", wrap_modify_endpoint)

    def wrap_dhcp_options(orig: Any) -> Any:
        @wraps(orig)
        def create_dhcp_options(self: Any) -> Any:
            """Gap: moto drops CreateDhcpOptions' TagSpecifications: `aws_vpc_dhcp_options` with tags (or
            default_tags) plans to add them on every plan."""
            result = orig(self)
            tags = self._parse_tag_specification().get("dhcp-options", {})
            if tags:
                result.result["DhcpOptions"].add_tags(tags)
            return result

        return create_dhcp_options

    replace(DHCPOptions, "create_dhcp_options", wrap_dhcp_options)
