data "aws_region" "current" {}

data "aws_partition" "current" {}

# Provider default_tags reach `tags` but not launch template tag_specifications:
# the nodes' instances, volumes and ENIs get them from here.
data "aws_default_tags" "current" {}

locals {
  cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  # Every node pool by key: "system" plus one entry per tenant tier ("system"
  # is a reserved tier name, so the keys never collide).
  node_pools = merge({ system = var.system_node_group }, var.tenant_tiers)

  node_group_names = { for k, _ in local.node_pools : k => (k == "system" ? "${var.name}-system" : "${var.name}-tenant-${k}") }

  # EKS-optimized Amazon Linux 2023 (the default AMI family from 1.30 on), x86_64
  # or arm64 (Graviton families: a "g" after the generation number, e.g. m7g).
  ami_type = {
    for k, p in local.node_pools : k => (
      alltrue([for t in p.instance_types : can(regex("^[a-z]+[0-9]+g", t))]) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD"
    )
  }

  instance_tags = merge(data.aws_default_tags.current.tags, var.tags)

  # tenant = <name> on the node group, launch template and nodes of a tier C tenant's pool; {} elsewhere (the
  # default_tags' tenant = "shared" applies).
  tenant_tags = { for k, p in local.node_pools : k => try(p.tenant, null) == null ? tomap({}) : tomap({ tenant = p.tenant }) }
}

################################################################################
# Control plane logs (the group must exist before the cluster, or EKS creates
# it unencrypted and with infinite retention)
################################################################################

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = merge(var.tags, { Name = "${var.name}-eks-cluster" })
}

################################################################################
# Additional control plane security group. EKS also creates its own cluster
# security group (cluster_primary_security_group_id), which it attaches to the
# control plane ENIs and the managed nodes and which allows all traffic among
# them; this one only opens the private endpoint to the VPC.
################################################################################

resource "aws_security_group" "cluster" {
  name        = "${var.name}-eks-cluster"
  description = "EKS ${var.name} control plane: Kubernetes API (443) from inside the VPC."
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-eks-cluster" })
}

resource "aws_vpc_security_group_ingress_rule" "cluster_api_from_vpc" {
  security_group_id = aws_security_group.cluster.id
  description       = "Kubernetes API from the VPC (private endpoint)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr

  tags = merge(var.tags, { Name = "${var.name}-eks-api-from-vpc" })
}

################################################################################
# Cluster
################################################################################

resource "aws_eks_cluster" "this" {
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    endpoint_public_access  = var.public_endpoint
    public_access_cidrs     = var.public_endpoint ? var.public_access_cidrs : null
  }

  # Access entries (EKS API) and the aws-auth ConfigMap both work; the creator
  # of the cluster (the apply role) is cluster admin, so the platform charts
  # installed next can map further principals.
  access_config {
    authentication_mode                         = "API_AND_CONFIG_MAP"
    bootstrap_cluster_creator_admin_permissions = true
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = var.secrets_kms_key_arn
    }
  }

  enabled_cluster_log_types = local.cluster_log_types

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = !var.public_endpoint || length(var.public_access_cidrs) > 0
      error_message = "public_endpoint = true needs a non-empty public_access_cidrs allowlist."
    }

    precondition {
      condition     = !var.public_endpoint || alltrue([for c in var.public_access_cidrs : try(tonumber(split("/", c)[1]) > 0, false)])
      error_message = "public_access_cidrs must not contain 0.0.0.0/0 (or any /0): the public endpoint is allowlist-only."
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.cluster,
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_secrets_kms,
  ]
}

check "public_access_cidrs_unused" {
  assert {
    condition     = var.public_endpoint || length(var.public_access_cidrs) == 0
    error_message = "public_access_cidrs is set but public_endpoint is false: the allowlist has no effect."
  }
}

################################################################################
# IRSA: IAM OIDC provider for the cluster's service account issuer
################################################################################

resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]

  # SHA-1 of the root CA that signs every oidc.eks.<region>.amazonaws.com
  # certificate, the value AWS documents for EKS. No tls provider is available
  # to read it; IAM also validates EKS issuers against its own trusted CAs.
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]

  tags = merge(var.tags, { Name = "${var.name}-eks-irsa" })
}

# Add-ons: no aws_eks_addon here. CoreDNS, kube-proxy and the VPC CNI that EKS
# bootstraps, plus everything else, are managed by the platform Helm charts
# installed after this module (see README).
