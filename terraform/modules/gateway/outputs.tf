output "chart_version" {
  description = "Envoy Gateway chart version installed"
  value       = try(helm_release.this.version, null)
}

output "namespace" {
  description = "Namespace of Envoy Gateway, its proxies and their Service"
  value       = try(helm_release.this.namespace, null)
}

output "proxy_service_name" {
  description = "Envoy proxy Service of the public Gateway (the ALB's targets)"
  value       = var.proxy_service_name
}
