output "load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller"
  value       = try(module.lb_controller_irsa.role_arn, null)
}

output "load_balancer_controller_release" {
  description = "Helm release name of the AWS Load Balancer Controller (a dependency of TargetGroupBindings)"
  value       = try(helm_release.this.name, null)
}

output "external_secrets_release" {
  description = "Helm release name of External Secrets Operator"
  value       = try(helm_release.external_secrets.name, null)
}
