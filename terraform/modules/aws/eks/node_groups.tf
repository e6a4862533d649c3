################################################################################
# Launch templates: one per node pool ("system" and each tenant tier)
################################################################################

resource "aws_launch_template" "node" {
  for_each = local.node_pools

  name        = local.node_group_names[each.key]
  description = "Nodes of EKS ${var.name} node group ${local.node_group_names[each.key]}: IMDSv2 only, encrypted gp3 root volume, no SSH key."

  # No image_id (EKS picks the AMI from the node group's ami_type and version),
  # no key_name (no SSH; use SSM Session Manager) and no security groups (EKS
  # attaches its cluster security group to managed nodes).
  update_default_version = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # Hop limit 1: only processes on the host network (kubelet, VPC CNI,
    # kube-proxy) reach IMDS; pods behind the extra hop of the pod network
    # cannot read the node role's credentials and must use IRSA. Add-ons that
    # would discover their region/VPC from IMDS get them set explicitly.
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda" # root volume of the EKS-optimized Amazon Linux AMIs

    ebs {
      volume_size           = each.value.disk_gib
      volume_type           = "gp3"
      encrypted             = true # the account's EBS key (aws/ebs or the default CMK set for EBS)
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.instance_tags, local.tenant_tags[each.key], { Name = local.node_group_names[each.key] })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.instance_tags, local.tenant_tags[each.key], { Name = local.node_group_names[each.key] })
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = merge(local.instance_tags, local.tenant_tags[each.key], { Name = local.node_group_names[each.key] })
  }

  tags = merge(var.tags, local.tenant_tags[each.key], { Name = local.node_group_names[each.key] })
}

################################################################################
# Managed node groups
################################################################################

# Platform add-ons only: the CriticalAddonsOnly taint keeps tenant workloads off.
resource "aws_eks_node_group" "system" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = local.node_group_names["system"]
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  version         = aws_eks_cluster.this.version

  ami_type       = local.ami_type["system"]
  capacity_type  = "ON_DEMAND"
  instance_types = var.system_node_group.instance_types

  launch_template {
    id      = aws_launch_template.node["system"].id
    version = tostring(aws_launch_template.node["system"].latest_version)
  }

  scaling_config {
    min_size     = var.system_node_group.min_size
    max_size     = var.system_node_group.max_size
    desired_size = var.system_node_group.desired_size
  }

  update_config {
    max_unavailable = 1
  }

  labels = {
    "node.infractl.io/pool" = "system"
  }

  taint {
    key    = "CriticalAddonsOnly"
    value  = "true"
    effect = "NO_SCHEDULE"
  }

  tags = merge(var.tags, { Name = local.node_group_names["system"] })

  depends_on = [aws_iam_role_policy_attachment.node]
}

# One node group per tenant tier; tenant pods select it with the tier label and
# tolerate the tenant-tier=<tier> taint.
resource "aws_eks_node_group" "tenant" {
  for_each = var.tenant_tiers

  cluster_name    = aws_eks_cluster.this.name
  node_group_name = local.node_group_names[each.key]
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  version         = aws_eks_cluster.this.version

  ami_type       = local.ami_type[each.key]
  capacity_type  = "ON_DEMAND"
  instance_types = each.value.instance_types

  launch_template {
    id      = aws_launch_template.node[each.key].id
    version = tostring(aws_launch_template.node[each.key].latest_version)
  }

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  update_config {
    max_unavailable = 1
  }

  labels = {
    "node.infractl.io/pool" = "tenant"
    "node.infractl.io/tier" = each.key
  }

  taint {
    key    = "tenant-tier"
    value  = each.key
    effect = "NO_SCHEDULE"
  }

  tags = merge(var.tags, local.tenant_tags[each.key], { Name = local.node_group_names[each.key], "tenant-tier" = each.key })

  depends_on = [aws_iam_role_policy_attachment.node]
}
