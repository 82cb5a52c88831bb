variable "name" {
  description = "Name of the OpenSearch domain (at most 28 characters)"
  type        = string
  default     = "concert-logs"
}

variable "engine_version" {
  description = "OpenSearch engine version"
  type        = string
  default     = "OpenSearch_2.19"
}

variable "vpc_id" {
  description = "VPC of the domain"
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the domain, one per zone used"
  type        = list(string)
  default     = []
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach the domain on 443 (the cluster's nodes, where Fluent Bit runs)"
  type        = list(string)
  default     = []
}

variable "instance_type" {
  description = "Data node instance type"
  type        = string
  default     = "r7g.large.search"
}

variable "instance_count" {
  description = "Data nodes, a multiple of the zones used"
  type        = number
  default     = 3
}

variable "master_instance_type" {
  description = "Dedicated master node instance type"
  type        = string
  default     = "m7g.large.search"
}

variable "volume_size" {
  description = "EBS volume per data node, GiB"
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest"
  type        = string
  default     = null
}

variable "logs_kms_key_arn" {
  description = "KMS key of the domain's own CloudWatch log groups"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the domain's own logs (slow, error and audit logs)"
  type        = number
  default     = 365
}

variable "admin_role_arn" {
  description = "IAM role that is the domain's fine-grained access master user (maps other roles inside OpenSearch)"
  type        = string
  default     = ""
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider, for Fluent Bit's role"
  type        = string
  default     = null
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path without scheme"
  type        = string
  default     = null
}

variable "fluent_bit_namespace" {
  description = "Namespace of Fluent Bit's service account"
  type        = string
  default     = "logging"
}

variable "fluent_bit_service_account" {
  description = "Name of Fluent Bit's service account, the only one its role trusts"
  type        = string
  default     = "fluent-bit"
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "create_service_linked_role" {
  description = "Create OpenSearch's service-linked role (false where the account already has it, e.g. a second environment in one account)"
  type        = bool
  default     = true
}
