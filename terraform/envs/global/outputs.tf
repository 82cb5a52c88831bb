output "ecr_repository_urls" {
  description = "Image repository URL per function (`concert/<function>`, what the deploy workflow pushes)"
  value       = try(module.ecr.repository_urls, {})
}

output "ecr_push_role_arn" {
  description = "`AWS_ECR_ROLE_ARN` of the deploy workflow"
  value       = try(aws_iam_role.ecr_push.arn, null)
}

output "github_oidc_provider_arn" {
  description = "The account's GitHub Actions OIDC provider, trusted by every environment's deploy role"
  value       = try(aws_iam_openid_connect_provider.github.arn, null)
}
