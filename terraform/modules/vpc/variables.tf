variable "name" {
  description = "Name prefix of every resource (e.g. `concert-prod`)"
  type        = string
  default     = "concert"
}

variable "cidr" {
  description = "IPv4 CIDR of the VPC; a /16 leaves room for three /19 private subnets (pods take VPC addresses with the VPC CNI)"
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "Availability zones to spread the subnets over, by name (2 or 3). Named, not discovered, so a zone AWS adds later never reshuffles subnets"
  type        = list(string)
  default     = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, a zone outage cuts egress) instead of one per zone"
  type        = bool
  default     = false
}

variable "flow_log_retention_in_days" {
  description = "Retention of the VPC flow log group"
  type        = number
  default     = 365
}

variable "logs_kms_key_arn" {
  description = "KMS key that encrypts the flow log group (its policy must allow the CloudWatch Logs service)"
  type        = string
  default     = null
}

variable "cluster_name" {
  description = "EKS cluster name tagged on the subnets so the AWS Load Balancer Controller can discover them"
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
