################################################################################
# Network security groups: deny by default
#
# Every subnet gets its own NSG whose last custom rule (4096) denies all
# inbound traffic, ahead of Azure's default AllowVnetInBound rule; the rules
# before it allow only what the tier needs.
################################################################################

resource "azurerm_network_security_group" "private" {
  name                = "${var.name}-private"
  location            = var.location
  resource_group_name = var.resource_group_name

  # Nodes and pods talk to each other and to the API server inside the VNet.
  security_rule {
    name                       = "allow-vnet-inbound"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "VirtualNetwork"
  }

  # Pods (CNI overlay) have addresses outside the VNet's space, so the
  # VirtualNetwork tag does not cover pod-to-pod or API-server-to-pod traffic.
  security_rule {
    name                       = "allow-pods-inbound"
    priority                   = 4005
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = var.pod_cidr
    destination_address_prefix = "*"
  }

  # Health probes of Azure load balancers.
  security_rule {
    name                       = "allow-azure-load-balancer-inbound"
    priority                   = 4010
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-inbound"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  tags = var.tags
}

resource "azurerm_network_security_group" "postgres" {
  name                = "${var.name}-postgres"
  location            = var.location
  resource_group_name = var.resource_group_name

  # PostgreSQL from the workload subnets only.
  security_rule {
    name                       = "allow-postgres-from-private-subnets"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "5432"
    source_address_prefixes    = values(local.private_cidrs)
    destination_address_prefix = local.postgres_cidr
  }

  # Replication between the primary and the zone-redundant standby.
  security_rule {
    name                       = "allow-within-postgres-subnet"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = local.postgres_cidr
    destination_address_prefix = local.postgres_cidr
  }

  security_rule {
    name                       = "allow-azure-load-balancer-inbound"
    priority                   = 4010
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-inbound"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  tags = var.tags
}

resource "azurerm_network_security_group" "apiserver" {
  name                = "${var.name}-apiserver"
  location            = var.location
  resource_group_name = var.resource_group_name

  # The API server's internal endpoint, from the VNet (nodes, operators on
  # a peered network).
  security_rule {
    name                       = "allow-apiserver-from-vnet"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["443", "4443"]
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = local.apiserver_cidr
  }

  # The public endpoint of a cluster with public_endpoint: AKS admits only its
  # authorized IP ranges; a private cluster has no public address, so this
  # rule matches nothing.
  security_rule {
    name                       = "allow-apiserver-public-endpoint"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "Internet"
    destination_address_prefix = local.apiserver_cidr
  }

  security_rule {
    name                       = "allow-azure-load-balancer-inbound"
    priority                   = 4010
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "AzureLoadBalancer"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-inbound"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  tags = var.tags
}

resource "azurerm_subnet_network_security_group_association" "private" {
  for_each = azurerm_subnet.private

  subnet_id                 = each.value.id
  network_security_group_id = azurerm_network_security_group.private.id
}

resource "azurerm_subnet_network_security_group_association" "postgres" {
  subnet_id                 = azurerm_subnet.postgres.id
  network_security_group_id = azurerm_network_security_group.postgres.id
}

resource "azurerm_subnet_network_security_group_association" "apiserver" {
  subnet_id                 = azurerm_subnet.apiserver.id
  network_security_group_id = azurerm_network_security_group.apiserver.id
}
