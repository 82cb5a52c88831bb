variable "name" {
  description = "Alias of the key, without the `alias/` prefix"
  type        = string
  default     = "concert"
}

variable "description" {
  description = "What the key encrypts, as shown in the KMS console"
  type        = string
  default     = "Customer managed key"
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion completes (7-30)"
  type        = number
  default     = 30
}

variable "service_principals" {
  description = "AWS service principals (e.g. `logs.ap-northeast-2.amazonaws.com`) that encrypt with the key directly rather than through a grant on behalf of an IAM principal"
  type        = list(string)
  default     = []
}

variable "service_principal_condition" {
  description = "IAM condition block (an object) that limits `service_principals` to this account's data (confused deputy); for CloudWatch Logs, `ArnLike` on `kms:EncryptionContext:aws:logs:arn`"
  type        = any
  default     = {}
}

variable "service_role_arns" {
  description = "IAM roles (e.g. the Auto Scaling service-linked role that launches EKS nodes with encrypted volumes) allowed to use the key and to create grants for AWS services"
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
