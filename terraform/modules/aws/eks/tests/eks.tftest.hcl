# Offline unit tests: `terraform init -backend=false && terraform test`.
# The aws provider is mocked, so apply runs finish in seconds and IDs are
# random strings; the assertions check what the module decides, not AWS.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_default_tags" {
    defaults = {
      tags = {
        environment   = "test"
        owner         = "platform"
        "cost-center" = "cc-1234"
      }
    }
  }

  # Mocked resources still go through the real provider's config validation:
  # computed values that feed validated arguments (ARNs, the issuer URL) need
  # realistic shapes.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test-eks-eu-west-1"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/eks/test/cluster"
    }
  }

  mock_resource "aws_eks_cluster" {
    defaults = {
      arn                   = "arn:aws:eks:eu-west-1:123456789012:cluster/test"
      endpoint              = "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com"
      certificate_authority = [{ data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" }] }]
    }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0000000000000000a"
      latest_version = 1
    }
  }
}

# Distinct launch template IDs, so the tests can tell which template each node
# group uses.
override_resource {
  target = aws_launch_template.node["system"]
  values = { id = "lt-0000000000000000b", latest_version = 3 }
}

override_resource {
  target = aws_launch_template.node["standard"]
  values = { id = "lt-0000000000000000c", latest_version = 2 }
}

variables {
  name                = "test"
  kubernetes_version  = "1.31"
  vpc_id              = "vpc-0123456789abcdef0"
  vpc_cidr            = "10.10.0.0/16"
  subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"]
  secrets_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  logs_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"
  log_retention_days  = 90
  system_node_group   = { instance_types = ["m6i.large"], min_size = 2, max_size = 4, desired_size = 2, disk_gib = 50 }
  tenant_tiers = {
    standard = { instance_types = ["m6i.large", "m5.large"], min_size = 1, max_size = 6, desired_size = 2, disk_gib = 80 }
    premium  = { instance_types = ["m6i.xlarge"], min_size = 0, max_size = 4, desired_size = 0, disk_gib = 100 }
  }
  tags = { stack = "cluster" }
}

################################################################################
# Defaults: private endpoint only
################################################################################

run "private_cluster_defaults" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.name == "test" && aws_eks_cluster.this.version == "1.31" && aws_eks_cluster.this.role_arn == aws_iam_role.cluster.arn
    error_message = "The cluster must be named var.name, run var.kubernetes_version and use the module's cluster role."
  }

  assert {
    condition = (
      aws_eks_cluster.this.vpc_config[0].endpoint_private_access == true &&
      aws_eks_cluster.this.vpc_config[0].endpoint_public_access == false
    )
    error_message = "By default the API endpoint must be private only."
  }

  assert {
    condition = (
      aws_eks_cluster.this.vpc_config[0].subnet_ids == toset(var.subnet_ids) &&
      aws_eks_cluster.this.vpc_config[0].security_group_ids == toset([aws_security_group.cluster.id])
    )
    error_message = "The control plane must use var.subnet_ids and the module's security group."
  }

  assert {
    condition = (
      length(aws_eks_cluster.this.encryption_config) == 1 &&
      aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"]) &&
      aws_eks_cluster.this.encryption_config[0].provider[0].key_arn == var.secrets_kms_key_arn
    )
    error_message = "Kubernetes secrets must be envelope-encrypted with the secrets CMK."
  }

  assert {
    condition     = aws_eks_cluster.this.enabled_cluster_log_types == toset(["api", "audit", "authenticator", "controllerManager", "scheduler"])
    error_message = "All five control plane log types must be enabled."
  }

  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API_AND_CONFIG_MAP" && aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions == true
    error_message = "The cluster must accept access entries and the aws-auth ConfigMap, with the creator as admin."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.cluster.name == "/aws/eks/test/cluster" &&
      aws_cloudwatch_log_group.cluster.retention_in_days == 90 &&
      aws_cloudwatch_log_group.cluster.kms_key_id == var.logs_kms_key_arn
    )
    error_message = "The control plane log group must be /aws/eks/<name>/cluster, with the retention and encrypted with the logs CMK."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.cluster_api_from_vpc.security_group_id == aws_security_group.cluster.id &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_vpc.cidr_ipv4 == "10.10.0.0/16" &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_vpc.ip_protocol == "tcp" &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_vpc.from_port == 443 &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_vpc.to_port == 443 &&
      aws_security_group.cluster.vpc_id == var.vpc_id
    )
    error_message = "The cluster security group must open only 443 from the VPC CIDR."
  }

  assert {
    condition = (
      aws_iam_openid_connect_provider.this.url == aws_eks_cluster.this.identity[0].oidc[0].issuer &&
      aws_iam_openid_connect_provider.this.client_id_list == toset(["sts.amazonaws.com"]) &&
      aws_iam_openid_connect_provider.this.thumbprint_list == tolist(["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    )
    error_message = "The IRSA OIDC provider must trust the cluster issuer for sts.amazonaws.com."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.cluster.assume_role_policy).Statement[0].Principal.Service == "eks.amazonaws.com" &&
      aws_iam_role.cluster.name == "test-eks-cluster-eu-west-1" &&
      aws_iam_role_policy_attachment.cluster.role == aws_iam_role.cluster.name &&
      aws_iam_role_policy_attachment.cluster.policy_arn == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    )
    error_message = "The cluster role must be trusted by EKS and carry AmazonEKSClusterPolicy."
  }

  assert {
    condition = (
      aws_iam_role_policy.cluster_secrets_kms.role == aws_iam_role.cluster.id &&
      jsondecode(aws_iam_role_policy.cluster_secrets_kms.policy).Statement[0].Resource == var.secrets_kms_key_arn &&
      alltrue([for a in jsondecode(aws_iam_role_policy.cluster_secrets_kms.policy).Statement[0].Action : startswith(a, "kms:")])
    )
    error_message = "The cluster role may use only the secrets CMK, and only KMS actions."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.node.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com" &&
      toset([for a in values(aws_iam_role_policy_attachment.node) : a.policy_arn]) == toset([
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      ]) &&
      alltrue([for a in values(aws_iam_role_policy_attachment.node) : a.role == aws_iam_role.node.name])
    )
    error_message = "The node role must be trusted by EC2 and carry exactly the worker, CNI, ECR read-only and SSM core policies."
  }

  # Launch templates: IMDSv2, encrypted gp3 root volume, no SSH.
  assert {
    condition     = length(aws_launch_template.node) == 3 && keys(aws_launch_template.node) == ["premium", "standard", "system"]
    error_message = "There must be one launch template per node group (system + each tier)."
  }

  assert {
    condition = alltrue([
      for lt in values(aws_launch_template.node) :
      lt.metadata_options[0].http_tokens == "required" &&
      lt.metadata_options[0].http_endpoint == "enabled" &&
      contains([1, 2], lt.metadata_options[0].http_put_response_hop_limit)
    ])
    error_message = "Every launch template must require IMDSv2 (http_tokens = required) with a hop limit of 1 or 2."
  }

  assert {
    condition     = alltrue([for lt in values(aws_launch_template.node) : lt.metadata_options[0].http_put_response_hop_limit == 1])
    error_message = "The IMDS hop limit must be 1 so that pods cannot reach the node role's credentials."
  }

  assert {
    condition = alltrue([
      for k, lt in aws_launch_template.node :
      length(lt.block_device_mappings) == 1 &&
      lt.block_device_mappings[0].ebs[0].encrypted == "true" &&
      lt.block_device_mappings[0].ebs[0].volume_type == "gp3" &&
      lt.block_device_mappings[0].ebs[0].volume_size == (k == "system" ? var.system_node_group.disk_gib : var.tenant_tiers[k].disk_gib)
    ])
    error_message = "Every launch template must give an encrypted gp3 root volume of the pool's disk_gib."
  }

  assert {
    condition     = alltrue([for lt in values(aws_launch_template.node) : lt.key_name == null && lt.image_id == null && length(coalesce(lt.vpc_security_group_ids, [])) == 0 && length(lt.network_interfaces) == 0])
    error_message = "Launch templates must set no SSH key, no AMI and no security groups (EKS manages them)."
  }

  assert {
    condition = alltrue([
      for k, lt in aws_launch_template.node :
      toset([for ts in lt.tag_specifications : ts.resource_type]) == toset(["instance", "volume", "network-interface"]) &&
      alltrue([for ts in lt.tag_specifications : ts.tags["environment"] == "test" && ts.tags["cost-center"] == "cc-1234" && ts.tags["stack"] == "cluster" && ts.tags["Name"] == lt.name])
    ])
    error_message = "Instances, volumes and ENIs must be tagged with the default tags, var.tags and the node group name."
  }

  # Node groups: one per pool, launch template by id + latest version.
  assert {
    condition = (
      aws_eks_node_group.system.node_group_name == "test-system" &&
      aws_eks_node_group.system.labels == tomap({ "node.infractl.io/pool" = "system" }) &&
      length(aws_eks_node_group.system.taint) == 1 &&
      one(aws_eks_node_group.system.taint).key == "CriticalAddonsOnly" &&
      one(aws_eks_node_group.system.taint).value == "true" &&
      one(aws_eks_node_group.system.taint).effect == "NO_SCHEDULE"
    )
    error_message = "The system node group must carry the system pool label and the CriticalAddonsOnly=true:NoSchedule taint."
  }

  assert {
    condition     = keys(aws_eks_node_group.tenant) == ["premium", "standard"]
    error_message = "There must be exactly one tenant node group per tier."
  }

  assert {
    condition = alltrue([
      for tier, ng in aws_eks_node_group.tenant :
      ng.node_group_name == "test-tenant-${tier}" &&
      ng.labels == tomap({ "node.infractl.io/pool" = "tenant", "node.infractl.io/tier" = tier }) &&
      length(ng.taint) == 1 &&
      one(ng.taint).key == "tenant-tier" && one(ng.taint).value == tier && one(ng.taint).effect == "NO_SCHEDULE"
    ])
    error_message = "Each tenant node group must carry the tenant pool and tier labels and the tenant-tier=<tier>:NoSchedule taint."
  }

  assert {
    condition = alltrue([
      for k, ng in merge({ system = aws_eks_node_group.system }, aws_eks_node_group.tenant) :
      ng.launch_template[0].id == aws_launch_template.node[k].id &&
      ng.launch_template[0].version == tostring(aws_launch_template.node[k].latest_version) &&
      length(ng.remote_access) == 0 &&
      ng.update_config[0].max_unavailable == 1 &&
      ng.node_role_arn == aws_iam_role.node.arn &&
      ng.subnet_ids == toset(var.subnet_ids) &&
      ng.cluster_name == aws_eks_cluster.this.name &&
      ng.version == aws_eks_cluster.this.version &&
      ng.ami_type == "AL2023_x86_64_STANDARD" &&
      ng.capacity_type == "ON_DEMAND"
    ])
    error_message = "Every node group must use its own launch template (id + latest version), no remote access, max_unavailable 1, the node role and the cluster version."
  }

  assert {
    condition = (
      aws_eks_node_group.system.launch_template[0].id == "lt-0000000000000000b" && aws_eks_node_group.system.launch_template[0].version == "3" &&
      aws_eks_node_group.tenant["standard"].launch_template[0].id == "lt-0000000000000000c" && aws_eks_node_group.tenant["standard"].launch_template[0].version == "2"
    )
    error_message = "Node groups must pin the latest version of their own pool's launch template."
  }

  assert {
    condition = (
      aws_eks_node_group.tenant["standard"].instance_types == tolist(["m6i.large", "m5.large"]) &&
      aws_eks_node_group.tenant["standard"].scaling_config[0].min_size == 1 &&
      aws_eks_node_group.tenant["standard"].scaling_config[0].desired_size == 2 &&
      aws_eks_node_group.tenant["standard"].scaling_config[0].max_size == 6 &&
      aws_eks_node_group.tenant["premium"].scaling_config[0].min_size == 0 &&
      aws_eks_node_group.system.scaling_config[0].desired_size == 2 &&
      aws_eks_node_group.system.instance_types == tolist(["m6i.large"])
    )
    error_message = "Instance types and scaling must come from the pool objects."
  }

  assert {
    condition = alltrue([
      for t in concat(
        [aws_eks_cluster.this.tags, aws_cloudwatch_log_group.cluster.tags, aws_security_group.cluster.tags, aws_iam_role.cluster.tags, aws_iam_role.node.tags],
        [aws_iam_openid_connect_provider.this.tags, aws_eks_node_group.system.tags],
        [for ng in values(aws_eks_node_group.tenant) : ng.tags], [for lt in values(aws_launch_template.node) : lt.tags],
      ) : lookup(t, "stack", null) == "cluster" && startswith(lookup(t, "Name", ""), "test")
    ])
    error_message = "var.tags must be merged onto every taggable resource, next to a Name tag with the name prefix."
  }

  assert {
    condition = (
      output.cluster_name == "test" &&
      output.cluster_arn == aws_eks_cluster.this.arn &&
      output.cluster_endpoint == aws_eks_cluster.this.endpoint &&
      output.cluster_certificate_authority == aws_eks_cluster.this.certificate_authority[0].data &&
      output.cluster_security_group_id == aws_security_group.cluster.id &&
      output.oidc_provider_arn == aws_iam_openid_connect_provider.this.arn &&
      output.oidc_issuer_url == "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" &&
      output.node_role_arn == aws_iam_role.node.arn &&
      output.node_group_names == tomap({ system = "test-system", standard = "test-tenant-standard", premium = "test-tenant-premium" }) &&
      output.log_group_name == "/aws/eks/test/cluster"
    )
    error_message = "Outputs must expose the created resources."
  }
}

################################################################################
# Public endpoint with an allowlist; Graviton tier; no tenant tiers
################################################################################

run "public_endpoint_allowlist" {
  command = plan

  variables {
    public_endpoint     = true
    public_access_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
  }

  assert {
    condition = (
      aws_eks_cluster.this.vpc_config[0].endpoint_public_access == true &&
      aws_eks_cluster.this.vpc_config[0].endpoint_private_access == true &&
      aws_eks_cluster.this.vpc_config[0].public_access_cidrs == toset(["203.0.113.0/24", "198.51.100.7/32"])
    )
    error_message = "A public endpoint must keep the private endpoint and be restricted to the allowlist."
  }
}

run "graviton_tier_and_single_pool" {
  command = plan

  variables {
    system_node_group = { instance_types = ["t3.large"], min_size = 1, max_size = 1, desired_size = 1, disk_gib = 20 }
    tenant_tiers = {
      arm = { instance_types = ["m7g.large", "c6gn.xlarge"], min_size = 0, max_size = 2, desired_size = 0, disk_gib = 20 }
    }
  }

  assert {
    condition     = aws_eks_node_group.tenant["arm"].ami_type == "AL2023_ARM_64_STANDARD" && aws_eks_node_group.system.ami_type == "AL2023_x86_64_STANDARD"
    error_message = "Graviton instance types must get the arm64 AMI type, others the x86_64 one."
  }

  assert {
    condition     = length(aws_launch_template.node) == 2 && aws_launch_template.node["system"].block_device_mappings[0].ebs[0].volume_size == 20
    error_message = "One launch template per pool, with the pool's disk size."
  }
}

run "tier_c_tenant_tags" {
  command = plan

  variables {
    tenant_tiers = {
      standard  = { instance_types = ["m6i.large"], min_size = 0, max_size = 2, desired_size = 1, disk_gib = 50 }
      c-initech = { instance_types = ["t3.medium"], min_size = 0, max_size = 2, desired_size = 1, disk_gib = 50, tenant = "initech" }
    }
  }

  assert {
    condition = (
      aws_eks_node_group.tenant["c-initech"].tags["tenant"] == "initech" &&
      aws_launch_template.node["c-initech"].tags["tenant"] == "initech" &&
      alltrue([for ts in aws_launch_template.node["c-initech"].tag_specifications : ts.tags["tenant"] == "initech"])
    )
    error_message = "A tier C tenant's node group, launch template and nodes must carry tenant = <its tenant>."
  }

  assert {
    condition = (
      !contains(keys(aws_eks_node_group.tenant["standard"].tags), "tenant") &&
      !contains(keys(aws_eks_node_group.system.tags), "tenant") &&
      !contains(keys(aws_launch_template.node["standard"].tags), "tenant")
    )
    error_message = "Shared pools must not set a tenant tag of their own (the default_tags' tenant = \"shared\" applies)."
  }
}

run "invalid_tier_tenant" {
  command = plan

  variables {
    tenant_tiers = {
      c-bad = { instance_types = ["t3.medium"], min_size = 0, max_size = 2, desired_size = 1, disk_gib = 50, tenant = "Bad_Name" }
    }
  }

  expect_failures = [var.tenant_tiers]
}

run "no_tenant_tiers" {
  command = plan

  variables {
    tenant_tiers = {}
  }

  assert {
    condition     = length(aws_eks_node_group.tenant) == 0 && keys(aws_launch_template.node) == ["system"]
    error_message = "Without tiers only the system pool must exist."
  }
}

################################################################################
# Invalid inputs fail at plan time, not in AWS
################################################################################

run "invalid_public_endpoint_open_to_world" {
  command = plan
  variables {
    public_endpoint     = true
    public_access_cidrs = ["203.0.113.0/24", "0.0.0.0/0"]
  }
  expect_failures = [aws_eks_cluster.this]
}

run "invalid_public_endpoint_without_allowlist" {
  command = plan
  variables {
    public_endpoint     = true
    public_access_cidrs = []
  }
  expect_failures = [aws_eks_cluster.this]
}

run "warns_allowlist_without_public_endpoint" {
  command = plan
  variables {
    public_endpoint     = false
    public_access_cidrs = ["203.0.113.0/24"]
  }
  expect_failures = [check.public_access_cidrs_unused]

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access == false
    error_message = "An allowlist alone must not open the public endpoint."
  }
}

run "invalid_public_access_cidr" {
  command = plan
  variables {
    public_endpoint     = true
    public_access_cidrs = ["203.0.113.7/24"]
  }
  expect_failures = [var.public_access_cidrs]
}

run "invalid_kubernetes_version_patch" {
  command = plan
  variables {
    kubernetes_version = "1.31.2"
  }
  expect_failures = [var.kubernetes_version]
}

run "invalid_kubernetes_version_prefix" {
  command = plan
  variables {
    kubernetes_version = "v1.31"
  }
  expect_failures = [var.kubernetes_version]
}

run "invalid_kubernetes_version_word" {
  command = plan
  variables {
    kubernetes_version = "latest"
  }
  expect_failures = [var.kubernetes_version]
}

run "invalid_tier_name_uppercase" {
  command = plan
  variables {
    tenant_tiers = {
      Gold = { instance_types = ["m6i.large"], min_size = 0, max_size = 1, desired_size = 0, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_name_leading_digit" {
  command = plan
  variables {
    tenant_tiers = {
      "1gold" = { instance_types = ["m6i.large"], min_size = 0, max_size = 1, desired_size = 0, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_name_underscore" {
  command = plan
  variables {
    tenant_tiers = {
      gold_plus = { instance_types = ["m6i.large"], min_size = 0, max_size = 1, desired_size = 0, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_name_reserved" {
  command = plan
  variables {
    tenant_tiers = {
      system = { instance_types = ["m6i.large"], min_size = 0, max_size = 1, desired_size = 0, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_min_above_max" {
  command = plan
  variables {
    tenant_tiers = {
      standard = { instance_types = ["m6i.large"], min_size = 3, max_size = 2, desired_size = 2, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_desired_above_max" {
  command = plan
  variables {
    tenant_tiers = {
      standard = { instance_types = ["m6i.large"], min_size = 1, max_size = 2, desired_size = 3, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_disk_too_small" {
  command = plan
  variables {
    tenant_tiers = {
      standard = { instance_types = ["m6i.large"], min_size = 1, max_size = 2, desired_size = 1, disk_gib = 10 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_tier_mixed_architectures" {
  command = plan
  variables {
    tenant_tiers = {
      standard = { instance_types = ["m6i.large", "m6g.large"], min_size = 1, max_size = 2, desired_size = 1, disk_gib = 50 }
    }
  }
  expect_failures = [var.tenant_tiers]
}

run "invalid_system_min_above_max" {
  command = plan
  variables {
    system_node_group = { instance_types = ["m6i.large"], min_size = 4, max_size = 2, desired_size = 2, disk_gib = 50 }
  }
  expect_failures = [var.system_node_group]
}

run "invalid_system_min_zero" {
  command = plan
  variables {
    system_node_group = { instance_types = ["m6i.large"], min_size = 0, max_size = 2, desired_size = 0, disk_gib = 50 }
  }
  expect_failures = [var.system_node_group]
}

run "invalid_system_disk_too_small" {
  command = plan
  variables {
    system_node_group = { instance_types = ["m6i.large"], min_size = 1, max_size = 2, desired_size = 1, disk_gib = 8 }
  }
  expect_failures = [var.system_node_group]
}

run "invalid_system_no_instance_types" {
  command = plan
  variables {
    system_node_group = { instance_types = [], min_size = 1, max_size = 2, desired_size = 1, disk_gib = 50 }
  }
  expect_failures = [var.system_node_group]
}

run "invalid_subnet_ids_single" {
  command = plan
  variables {
    subnet_ids = ["subnet-0123456789abcdef0"]
  }
  expect_failures = [var.subnet_ids]
}

run "invalid_secrets_kms_key_alias" {
  command = plan
  variables {
    secrets_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/eks"
  }
  expect_failures = [var.secrets_kms_key_arn]
}

run "invalid_logs_kms_key_id" {
  command = plan
  variables {
    logs_kms_key_arn = "66666666-7777-8888-9999-000000000000"
  }
  expect_failures = [var.logs_kms_key_arn]
}

run "invalid_log_retention_days" {
  command = plan
  variables {
    log_retention_days = 42
  }
  expect_failures = [var.log_retention_days]
}

run "invalid_name_uppercase" {
  command = plan
  variables {
    name = "Bad_Name"
  }
  expect_failures = [var.name]
}

run "invalid_vpc_id" {
  command = plan
  variables {
    vpc_id = "vpc-XYZ"
  }
  expect_failures = [var.vpc_id]
}

run "invalid_tags_aws_prefix" {
  command = plan
  variables {
    tags = { "aws:cloudformation:stack-name" = "x" }
  }
  expect_failures = [var.tags]
}

run "invalid_vpc_cidr" {
  command = plan
  variables {
    vpc_cidr = "10.10.0.0"
  }
  expect_failures = [var.vpc_cidr]
}
