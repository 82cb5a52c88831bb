output "role_arn" {
  description = "ARN of the deploy role (`AWS_DEPLOY_ROLE_ARN` of the GitHub environments)"
  value       = try(aws_iam_role.this.arn, null)
}

output "role_name" {
  description = "Name of the deploy role"
  value       = try(aws_iam_role.this.name, null)
}
