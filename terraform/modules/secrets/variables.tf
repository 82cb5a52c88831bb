variable "path_prefix" {
  description = "Prefix of every secret name (e.g. `concert/prod`); IAM policies grant by this path"
  type        = string
  default     = "concert/dev"
}

variable "kms_key_arn" {
  description = "KMS key that encrypts every secret"
  type        = string
  default     = null
}

variable "secrets" {
  description = "Plain-string secrets to hold, by short name: what each is for and the length of the generated value (letters and digits only, safe in URLs and env vars)"
  type = map(object({
    description = string
    length      = optional(number, 64)
  }))
  default = {
    auth-jwt    = { description = "AUTH_JWT_SECRET: HS256 key of user JWTs" }
    queue-token = { description = "QUEUE_TOKEN_SECRET: HS256 key of waiting-room and access tokens" }
    webhook     = { description = "HMAC key that signs outbound notification webhooks" }
    redis-auth  = { description = "ElastiCache AUTH token (REDIS_URL password)" }
  }
}

variable "supplied_values" {
  description = "Values given from outside (e.g. `TF_VAR_supplied_values` in CI from a vault) by short name; every secret without one gets a generated value. Never commit these."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "db_username" {
  description = "MySQL user of the functions (created by the bootstrap SQL in terraform/README.md, not the master user)"
  type        = string
  default     = "concert_app"
}

variable "db_host" {
  description = "Host the functions connect to (the RDS Proxy endpoint); written into the `db-app` secret"
  type        = string
  default     = ""
}

variable "db_port" {
  description = "MySQL port"
  type        = number
  default     = 3306
}

variable "db_name" {
  description = "Schema of the application"
  type        = string
  default     = "concert"
}

variable "db_read_host" {
  description = "Host of the read replicas (DATABASE_READ_URL); written into the `db-app` secret, empty when there are none"
  type        = string
  default     = ""
}

variable "redis_host" {
  description = "Primary endpoint of the Redis replication group; written into the `redis-app` secret"
  type        = string
  default     = ""
}

variable "redis_port" {
  description = "Redis port"
  type        = number
  default     = 6379
}

variable "notify_webhook_url" {
  description = "Where notify posts signed notifications (NOTIFY_WEBHOOK_URL); empty: notify records them and sends nothing"
  type        = string
  default     = ""
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored"
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
