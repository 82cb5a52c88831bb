output "functions_namespace" {
  description = "Namespace of the functions and their service accounts"
  value       = try(kubernetes_namespace_v1.functions.metadata[0].name, null)
}

output "service_accounts" {
  description = "Service account per function (the Knative Services' `serviceAccountName`)"
  value       = try({ for k, sa in kubernetes_service_account_v1.function : k => sa.metadata[0].name }, null)
}

output "karpenter_node_pool" {
  description = "Name of the NodePool the functions' nodes come from"
  value       = try(local.node_pool.metadata.name, null)
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller"
  value       = try(module.eks_addons.load_balancer_controller_role_arn, null)
}
