variable "name" {
  description = "Name of the IAM role"
  type        = string
  default     = "concert-irsa"
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider"
  type        = string
  default     = null
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path without scheme (e.g. `oidc.eks.ap-northeast-2.amazonaws.com/id/ABC`)"
  type        = string
  default     = null
}

variable "namespace" {
  description = "Kubernetes namespace of the service account allowed to assume the role"
  type        = string
  default     = "default"
}

variable "service_account" {
  description = "Name of the only Kubernetes service account allowed to assume the role"
  type        = string
  default     = "default"
}

variable "policy_json" {
  description = "Inline permissions of the role, as an IAM policy document (JSON)"
  type        = string
  default     = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
}

variable "max_session_duration" {
  description = "Longest session of the role, seconds"
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
