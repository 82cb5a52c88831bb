variable "region" {
  description = "AWS region of the image repositories (the environments' region)"
  type        = string
  default     = "ap-northeast-2"
}

variable "github_repository" {
  description = "GitHub repository whose deploy workflow pushes the images, as `owner/name`"
  type        = string
  default     = ""

  # Empty by default so the file needs no organisation's name; an apply without it stops here.
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "Set github_repository to the GitHub repository as owner/name (TF_VAR_github_repository)."
  }
}

variable "functions" {
  description = "Deployable functions and triggers (each has a Knative Service in knative/base/services): one repository each"
  type        = list(string)
  default = [
    "enter-queue", "list-seats", "hold-seat", "pay", "charge-points", "web",
    "expire-holds", "admit-queue", "outbox-relay", "release-seat", "notify",
  ]
}
