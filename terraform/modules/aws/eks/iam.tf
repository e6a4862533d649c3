################################################################################
# Cluster role (assumed by the EKS control plane)
################################################################################

# IAM is global: the region in the names lets the same environment name exist
# in two regions of one account.
resource "aws_iam_role" "cluster" {
  name        = "${var.name}-eks-cluster-${data.aws_region.current.name}"
  description = "EKS control plane of cluster ${var.name}."

  # EKS documents no confused-deputy condition keys for the cluster role: the
  # trust policy is the one AWS publishes.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EksAssume"
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-eks-cluster" })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

# Envelope encryption of Kubernetes secrets with the CMK, and nothing else.
resource "aws_iam_role_policy" "cluster_secrets_kms" {
  name = "encrypt-secrets-with-cmk"
  role = aws_iam_role.cluster.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SecretsEnvelopeEncryption"
      Effect   = "Allow"
      Action   = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"]
      Resource = var.secrets_kms_key_arn
    }]
  })
}

################################################################################
# Node role (instance profile of every managed node group)
################################################################################

resource "aws_iam_role" "node" {
  name        = "${var.name}-eks-node-${data.aws_region.current.name}"
  description = "Managed node groups of EKS cluster ${var.name}."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Ec2Assume"
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(var.tags, { Name = "${var.name}-eks-node" })
}

# Worker: join the cluster. CNI: the VPC CNI's ENI/IP management (until it moves
# to its own IRSA role with the platform charts). ECR read-only: pull images.
# SSM core: Session Manager instead of SSH (no key pair, no port 22).
resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
  ])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.key}"
}
