variable "name" {
  description = "Name prefix of the distribution's policies"
  type        = string
  default     = "concert"
}

variable "origin_domain_name" {
  description = "DNS name of the public ALB the distribution forwards to"
  type        = string
  default     = ""
}

variable "aliases" {
  description = "Host names clients use (the API host); the ALB's certificate must cover them, since the viewer's Host header is forwarded"
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 for the aliases (CloudFront reads certificates only from that region)"
  type        = string
  default     = ""
}

variable "web_acl_arn" {
  description = "ARN of a WAF web ACL of scope CLOUDFRONT (created in us-east-1)"
  type        = string
  default     = null
}

variable "cached_path_patterns" {
  description = "Path patterns whose GET/HEAD answers the API marks `Cache-Control: public`; every other path is passed through uncached"
  type        = list(string)
  default     = ["/docs/*", "/v1/concerts*", "/assets/*"]
}

variable "max_ttl" {
  description = "Upper bound, seconds, on how long an origin Cache-Control may keep an answer at the edge"
  type        = number
  default     = 86400
}

variable "price_class" {
  description = "CloudFront price class (edge locations served)"
  type        = string
  default     = "PriceClass_200"
}

variable "logs_kms_key_arn" {
  description = "KMS key (us-east-1) of the access log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the access logs"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
