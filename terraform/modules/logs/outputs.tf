output "endpoint" {
  description = "HTTPS endpoint host of the domain (Fluent Bit's opensearch output Host)"
  value       = try(aws_opensearch_domain.this.endpoint, null)
}

output "dashboard_endpoint" {
  description = "OpenSearch Dashboards host (inside the VPC)"
  value       = try(aws_opensearch_domain.this.dashboard_endpoint, null)
}

output "domain_arn" {
  description = "ARN of the domain"
  value       = try(aws_opensearch_domain.this.arn, null)
}

output "fluent_bit_role_arn" {
  description = "IRSA role of Fluent Bit, for its service account's annotation"
  value       = try(module.fluent_bit_irsa.role_arn, null)
}

output "fluent_bit_service_account" {
  description = "The `namespace/name` of the service account Fluent Bit's role trusts"
  value       = try(module.fluent_bit_irsa.service_account, null)
}
