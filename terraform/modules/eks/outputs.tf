output "cluster_name" {
  description = "Name of the EKS cluster"
  value       = try(aws_eks_cluster.this.name, null)
}

output "cluster_arn" {
  description = "ARN of the EKS cluster"
  value       = try(aws_eks_cluster.this.arn, null)
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint"
  value       = try(aws_eks_cluster.this.endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API"
  value       = try(aws_eks_cluster.this.certificate_authority[0].data, null)
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the control plane and the managed nodes"
  value       = try(aws_eks_cluster.this.vpc_config[0].cluster_security_group_id, null)
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider, the principal of every IRSA trust policy"
  value       = try(aws_iam_openid_connect_provider.this.arn, null)
}

output "oidc_issuer" {
  description = "OIDC issuer host and path (no scheme), the prefix of the `:sub` and `:aud` condition keys"
  value       = try(replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", ""), null)
}

output "node_role_arn" {
  description = "IAM role of the managed nodes"
  value       = try(aws_iam_role.node.arn, null)
}
