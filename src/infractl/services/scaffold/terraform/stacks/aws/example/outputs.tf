output "key_arn" {
  description = "ARN of the example key."
  value       = aws_kms_key.this.arn
}
