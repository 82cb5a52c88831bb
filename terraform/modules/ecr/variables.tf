variable "name_prefix" {
  description = "Prefix of every repository name (`<prefix>/<function>`)"
  type        = string
  default     = "concert"
}

variable "repositories" {
  description = "One repository per function or trigger image"
  type        = list(string)
  default     = ["enter-queue", "list-seats", "hold-seat", "pay", "charge-points", "web", "expire-holds", "admit-queue", "outbox-relay", "release-seat", "notify"]
}

variable "kms_key_arn" {
  description = "KMS key encrypting the image layers"
  type        = string
  default     = null
}

variable "keep_images" {
  description = "Tagged images kept per repository (rollback depth of Knative revisions)"
  type        = number
  default     = 30
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (failed or superseded pushes) are deleted"
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
