locals {
  prefix = tonumber(split("/", var.cidr)[1])

  # Subnet carving (see README): the private subnets take the first half of
  # the VNet (one eighth per zone slot, three slots used at most), PostgreSQL
  # the 9th sixteenth, the API server a /28 at the start of the 10th sixteenth.
  private_cidrs = { for i, zone in var.zones : zone => cidrsubnet(var.cidr, 3, i) }
  postgres_cidr = cidrsubnet(var.cidr, 4, 8)
  apiserver_cidr = cidrsubnet(
    var.cidr, 28 - local.prefix, 9 * pow(2, 28 - local.prefix - 4)
  )

  # NAT gateways by zone: none, the first zone only, or every zone.
  nat_zones = {
    none   = []
    single = [var.zones[0]]
    per_az = var.zones
  }[var.nat_gateway_mode]

  # The NAT gateway that serves each private subnet (by zone).
  subnet_nat_zone = {
    for zone in var.zones : zone => (var.nat_gateway_mode == "per_az" ? zone : var.zones[0]) if var.nat_gateway_mode != "none"
  }
}

################################################################################
# VNet and subnets
################################################################################

resource "azurerm_virtual_network" "this" {
  name                = "${var.name}-vnet"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = [var.cidr]

  tags = var.tags

  # Azure creates a network watcher by itself with the first VNet of a region
  # unless one exists: create ours first so that no second one appears.
  depends_on = [azurerm_network_watcher.this]
}

# Workload subnets, one per zone. Azure subnets are regional: the zone is a
# convention that pairs each subnet with the NAT gateway of that zone.
resource "azurerm_subnet" "private" {
  for_each = local.private_cidrs

  name                 = "${var.name}-private-${each.key}"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [each.value]

  # No implicit outbound public IP: egress only through the NAT gateway.
  default_outbound_access_enabled = false

  # Storage and Key Vault are reached over the Azure backbone.
  service_endpoints = ["Microsoft.KeyVault", "Microsoft.Storage"]
}

# Delegated to PostgreSQL Flexible Server (VNet injection); nothing else can
# be deployed into it.
resource "azurerm_subnet" "postgres" {
  name                 = "${var.name}-postgres"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [local.postgres_cidr]

  default_outbound_access_enabled = false
  service_endpoints               = ["Microsoft.Storage"]

  delegation {
    name = "postgresql-flexible-server"

    service_delegation {
      name    = "Microsoft.DBforPostgreSQL/flexibleServers"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

# Delegated to AKS for API Server VNet Integration: the API server gets an
# internal load balancer here, so the private endpoint is always on.
resource "azurerm_subnet" "apiserver" {
  name                 = "${var.name}-apiserver"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [local.apiserver_cidr]

  default_outbound_access_enabled = false

  delegation {
    name = "aks-apiserver"

    service_delegation {
      name    = "Microsoft.ContainerService/managedClusters"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

################################################################################
# NAT gateways (zonal resources)
################################################################################

resource "azurerm_public_ip" "nat" {
  for_each = toset(local.nat_zones)

  name                = "${var.name}-nat-${each.key}"
  location            = var.location
  resource_group_name = var.resource_group_name
  allocation_method   = "Static"
  sku                 = "Standard"
  ip_version          = "IPv4"
  zones               = [each.key]

  tags = var.tags
}

resource "azurerm_nat_gateway" "this" {
  for_each = toset(local.nat_zones)

  name                    = "${var.name}-nat-${each.key}"
  location                = var.location
  resource_group_name     = var.resource_group_name
  sku_name                = "Standard"
  idle_timeout_in_minutes = 4
  zones                   = [each.key]

  tags = var.tags
}

resource "azurerm_nat_gateway_public_ip_association" "this" {
  for_each = toset(local.nat_zones)

  nat_gateway_id       = azurerm_nat_gateway.this[each.key].id
  public_ip_address_id = azurerm_public_ip.nat[each.key].id
}

resource "azurerm_subnet_nat_gateway_association" "private" {
  for_each = local.subnet_nat_zone

  subnet_id      = azurerm_subnet.private[each.key].id
  nat_gateway_id = azurerm_nat_gateway.this[each.value].id
}
