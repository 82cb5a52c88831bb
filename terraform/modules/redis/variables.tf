variable "name" {
  description = "Replication group id and name prefix"
  type        = string
  default     = "concert"
}

variable "vpc_id" {
  description = "VPC of the replication group"
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Data subnets, one per zone"
  type        = list(string)
  default     = []
}

variable "client_cidrs" {
  description = "CIDRs of the clients (EKS private subnets) allowed on 6379"
  type        = list(string)
  default     = []
}

variable "engine_version" {
  description = "Redis OSS engine version"
  type        = string
  default     = "7.1"
}

variable "parameter_group_family" {
  description = "Parameter group family matching `engine_version`"
  type        = string
  default     = "redis7"
}

variable "node_type" {
  description = "Cache node type (the ADR sizes production at cache.r6g.large)"
  type        = string
  default     = "cache.r7g.large"
}

variable "num_cache_clusters" {
  description = "Primary plus replicas (the ADR's master and two replicas = 3); at least 2 for automatic failover"
  type        = number
  default     = 3
}

variable "multi_az_enabled" {
  description = "Place the replicas in other zones and fail over across zones"
  type        = bool
  default     = true
}

variable "auth_token" {
  description = "AUTH token clients present (from the secrets module; 16-128 characters)"
  type        = string
  default     = null
  sensitive   = true
}

variable "kms_key_arn" {
  description = "KMS key encrypting data at rest and the snapshots"
  type        = string
  default     = null
}

variable "logs_kms_key_arn" {
  description = "KMS key of the slow log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the slow log"
  type        = number
  default     = 365
}

variable "snapshot_retention_limit" {
  description = "Days of daily snapshots"
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
