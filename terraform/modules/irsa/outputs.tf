output "role_arn" {
  description = "ARN of the role, for the `eks.amazonaws.com/role-arn` annotation of the service account"
  value       = try(aws_iam_role.this.arn, null)
}

output "role_name" {
  description = "Name of the role"
  value       = try(aws_iam_role.this.name, null)
}

output "service_account" {
  description = "The `namespace/name` of the service account the role trusts"
  value       = "${var.namespace}/${var.service_account}"
}
