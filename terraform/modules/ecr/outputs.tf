output "repository_urls" {
  description = "Repository URL by function name (`<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<function>`)"
  value       = try({ for name, repo in aws_ecr_repository.this : name => repo.repository_url }, {})
}

output "repository_arns" {
  description = "Repository ARN by function name, for the CI push role"
  value       = try({ for name, repo in aws_ecr_repository.this : name => repo.arn }, {})
}
