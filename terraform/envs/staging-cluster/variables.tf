variable "region" {
  description = "AWS region of the staging stack (as in stage one)"
  type        = string
  default     = "ap-northeast-2"
}

variable "state_bucket" {
  description = "S3 bucket holding stage one's state (the `bucket` of backend.hcl)"
  type        = string
  default     = ""
}
