variable "cluster_name" {
  description = "Name of the EKS cluster"
  type        = string
  default     = "concert"
}

variable "vpc_id" {
  description = "VPC of the cluster (the load balancer controller is told it instead of asking IMDS, which pods cannot reach)"
  type        = string
  default     = null
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider"
  type        = string
  default     = null
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path, without scheme"
  type        = string
  default     = null
}

variable "target_group_arns" {
  description = "Target groups the load balancer controller may register pod IPs in (the Knative ingress)"
  type        = list(string)
  default     = []
}

variable "load_balancer_controller_chart_version" {
  description = "Version of the `aws-load-balancer-controller` chart (https://aws.github.io/eks-charts)"
  type        = string
  default     = "1.16.0"
}

variable "external_secrets_chart_version" {
  description = "Version of the `external-secrets` chart (https://charts.external-secrets.io)"
  type        = string
  default     = "1.0.0"
}

variable "tags" {
  description = "Tags added to every AWS resource"
  type        = map(string)
  default     = {}
}
