variable "name" {
  description = "Name of the web ACL"
  type        = string
  default     = "concert"
}

variable "scope" {
  description = "REGIONAL for the ALB; CLOUDFRONT for a distribution (then the caller's provider must be us-east-1)"
  type        = string
  default     = "REGIONAL"
}

variable "per_ip_rate_rules" {
  description = "Per-client-address rate rules; off on the ALB's ACL behind CloudFront, where every address is an edge server and the edge ACL applies them"
  type        = bool
  default     = true
}

variable "rate_limit_per_minute" {
  description = "Requests one client IP may send per minute before it is blocked (the ADR's 10 per second is 600)"
  type        = number
  default     = 600
}

variable "queue_entry_limit_per_minute" {
  description = "Tighter per-IP limit on entering the waiting room (POST /v1/queue/tokens), where bots concentrate at opening"
  type        = number
  default     = 60
}

variable "logs_kms_key_arn" {
  description = "KMS key of the WAF log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the WAF logs"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
