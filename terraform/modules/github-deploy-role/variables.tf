variable "name" {
  description = "Name of the deploy role (the workflow reads its ARN from the environment's `AWS_DEPLOY_ROLE_ARN`)"
  type        = string
  default     = "concert-deploy"
}

variable "github_repository" {
  description = "GitHub repository allowed to assume the role, as `owner/name`"
  type        = string
  default     = ""
}

variable "github_environments" {
  description = "GitHub environments whose jobs may assume the role (the workflow's `environment:` values for this cluster)"
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  description = "EKS cluster the role deploys to"
  type        = string
  default     = ""
}

variable "cluster_arn" {
  description = "ARN of that cluster"
  type        = string
  default     = ""
}

variable "namespace" {
  description = "Namespace the role may edit (the functions' namespace)"
  type        = string
  default     = "concert"
}

variable "tags" {
  description = "Tags added to every AWS resource"
  type        = map(string)
  default     = {}
}
