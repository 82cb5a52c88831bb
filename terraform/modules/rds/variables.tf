variable "name" {
  description = "Identifier prefix of the instances, the proxy and their companions"
  type        = string
  default     = "concert"
}

variable "vpc_id" {
  description = "VPC of the database"
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Data subnets (no route out of the VPC) for the instances and the proxy"
  type        = list(string)
  default     = []
}

variable "client_cidrs" {
  description = "CIDRs of the clients (the EKS private subnets) allowed to the proxy and the read replicas on 3306"
  type        = list(string)
  default     = []
}

variable "engine_version" {
  description = "MySQL engine version (major.minor; minor upgrades are automatic)"
  type        = string
  default     = "8.4"
}

variable "parameter_group_family" {
  description = "Parameter group family matching `engine_version`"
  type        = string
  default     = "mysql8.4"
}

variable "instance_class" {
  description = "Instance class of the primary"
  type        = string
  default     = "db.r7g.large"
}

variable "replica_instance_class" {
  description = "Instance class of each read replica (null: same as the primary)"
  type        = string
  default     = null
}

variable "replica_count" {
  description = "Number of read replicas (the ADR asks for 2)"
  type        = number
  default     = 2
}

variable "multi_az" {
  description = "Synchronous standby of the primary in a second zone"
  type        = bool
  default     = true
}

variable "allocated_storage" {
  description = "Initial storage, GiB"
  type        = number
  default     = 100
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling, GiB"
  type        = number
  default     = 500
}

variable "db_name" {
  description = "Schema created at launch"
  type        = string
  default     = "concert"
}

variable "master_username" {
  description = "Master user; its password is generated and kept in Secrets Manager by RDS itself, never in Terraform state"
  type        = string
  default     = "concert_admin"
}

variable "app_secret_arn" {
  description = "Secrets Manager secret with the functions' `username`/`password`, which RDS Proxy authenticates"
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key of the storage, the snapshots, Performance Insights and the master secret"
  type        = string
  default     = null
}

variable "backup_retention_period" {
  description = "Days of automated backups (point-in-time recovery window)"
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instances"
  type        = bool
  default     = true
}

variable "monitoring_interval" {
  description = "Enhanced Monitoring interval, seconds (0 turns it off)"
  type        = number
  default     = 30
}

variable "proxy_max_connections_percent" {
  description = "Share of the primary's max_connections that RDS Proxy may open"
  type        = number
  default     = 90
}

variable "read_dns_name" {
  description = "Private hosted zone whose `read` record spreads reads over the replicas by weight (e.g. `db.concert-prod.internal`)"
  type        = string
  default     = "db.concert.internal"
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
