output "operator_version" {
  description = "Knative Operator chart version installed"
  value       = try(helm_release.this.version, null)
}

output "domain" {
  description = "Domain of the Knative services"
  value       = var.domain
}

output "serving_namespace" {
  description = "Namespace of Knative Serving"
  value       = try(kubernetes_namespace_v1.serving.metadata[0].name, null)
}

output "eventing_namespace" {
  description = "Namespace of Knative Eventing and the Kafka source"
  value       = try(kubernetes_namespace_v1.eventing.metadata[0].name, null)
}
