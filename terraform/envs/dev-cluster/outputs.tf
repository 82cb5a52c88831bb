output "functions_namespace" {
  description = "Namespace of the functions (the overlay's `namespace`)"
  value       = try(module.cluster_addons.functions_namespace, null)
}

output "service_accounts" {
  description = "Service account per function"
  value       = try(module.cluster_addons.service_accounts, null)
}

output "karpenter_node_pool" {
  description = "NodePool of the functions' nodes"
  value       = try(module.cluster_addons.karpenter_node_pool, null)
}
