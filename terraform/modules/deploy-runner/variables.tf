variable "name" {
  description = "CodeBuild project name; the deploy jobs say `runs-on: codebuild-<name>-<run id>-<attempt>`"
  type        = string
  default     = "concert-deploy"
}

variable "github_repository" {
  description = "GitHub repository whose workflow jobs the runner takes, as `owner/name`"
  type        = string
  default     = ""
}

variable "codeconnections_arn" {
  description = "CodeConnections connection to GitHub (created once and authorised in the console: see docs/deploy.md)"
  type        = string
  default     = ""
}

variable "vpc_id" {
  description = "VPC of the cluster"
  type        = string
  default     = ""
}

variable "subnet_ids" {
  description = "Private subnets the runner attaches to (NAT egress, same network as the Kubernetes API endpoint)"
  type        = list(string)
  default     = []
}

variable "cluster_security_group_id" {
  description = "Security group of the EKS control plane endpoint; the runner is allowed into it on 443"
  type        = string
  default     = ""
}

variable "kms_key_arn" {
  description = "KMS key for the project's build data"
  type        = string
  default     = null
}

variable "logs_kms_key_arn" {
  description = "KMS key of the runner's log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the runner's logs"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every AWS resource"
  type        = map(string)
  default     = {}
}
