variable "name" {
  description = "Name of the load balancer and prefix of its companions"
  type        = string
  default     = "concert"
}

variable "vpc_id" {
  description = "VPC of the load balancer"
  type        = string
  default     = null
}

variable "public_subnet_ids" {
  description = "Public subnets the ALB listens in"
  type        = list(string)
  default     = []
}

variable "target_cidrs" {
  description = "CIDRs of the pods behind the ALB (EKS private subnets)"
  type        = list(string)
  default     = []
}

variable "node_security_group_id" {
  description = "Security group of the nodes/pods (the EKS cluster security group), opened to the ALB on `target_port`"
  type        = string
  default     = null
}

variable "target_port" {
  description = "Container port of the public Gateway's Envoy pods: Envoy Gateway moves a listener port below 1024 up by 10000, so listener 80 is 10080"
  type        = number
  default     = 10080
}

variable "health_check_path" {
  description = "Path the ALB probes on the gateway pods"
  type        = string
  default     = "/ready"
}

variable "health_check_port" {
  description = "Port the ALB probes (`traffic-port` or a number)"
  type        = string
  default     = "traffic-port"
}

variable "health_check_matcher" {
  description = "HTTP codes that count as healthy. Envoy answers 404 for a request whose Host matches no route, which still proves it is up and routing"
  type        = string
  default     = "200-404"
}

variable "certificate_arn" {
  description = "ACM certificate of the public API host name (required: the ALB listens on HTTPS only)"
  type        = string
  default     = ""
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener"
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "web_acl_arn" {
  description = "WAF web ACL associated with the ALB"
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer"
  type        = bool
  default     = true
}

variable "idle_timeout" {
  description = "Seconds an idle connection is kept (above the functions' longest request)"
  type        = number
  default     = 60
}

variable "access_log_expiry_days" {
  description = "Days the ALB access logs are kept"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "cloudfront_only" {
  description = "Accept HTTPS only from CloudFront's origin-facing prefix list (the API is served through modules/cdn)"
  type        = bool
  default     = false
}
