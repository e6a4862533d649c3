# An example: one customer-managed KMS key with rotation and an explicit policy that keeps its administration with
# the account's IAM. Replace it with your own resources.
resource "aws_kms_key" "this" {
  description             = "${var.environment}: example key"
  enable_key_rotation     = true
  deletion_window_in_days = 7

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.environment}-example"
  target_key_id = aws_kms_key.this.key_id
}
