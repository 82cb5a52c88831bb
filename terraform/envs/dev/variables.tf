variable "region" {
  description = "AWS region of the dev stack"
  type        = string
  default     = "ap-northeast-2"
}

variable "azs" {
  description = "Availability zones of the stack, in `region`"
  type        = list(string)
  default     = ["ap-northeast-2a", "ap-northeast-2c"]
}

variable "knative_domain" {
  description = "Public domain of the functions (`<function>.concert.<domain>`); the certificate must cover `*.concert.<domain>`"
  type        = string
  default     = "dev.example.com"
}

variable "certificate_arn" {
  description = "ACM certificate for `*.concert.<knative_domain>` in `region` (required at apply)"
  type        = string
  default     = ""
}

variable "eks_endpoint_public_access" {
  description = "Open the Kubernetes API on a public endpoint limited to `eks_public_access_cidrs` (otherwise run Terraform from inside the VPC)"
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to the public Kubernetes API endpoint when it is open"
  type        = list(string)
  default     = []
}

variable "eks_admin_principal_arns" {
  description = "IAM roles given cluster-admin (e.g. the platform team's SSO role and the CI deploy role)"
  type        = list(string)
  default     = []
}

variable "notify_webhook_url" {
  description = "Webhook receiver of notify (not a secret, but stored with its signing key in `notify-app`); empty: notify sends nothing"
  type        = string
  default     = ""
}

variable "supplied_secret_values" {
  description = "Secret values supplied from outside by short name (`TF_VAR_supplied_secret_values` in CI); the others are generated"
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "github_repository" {
  description = "GitHub repository whose deploy workflow may assume this stack's deploy role, as `owner/name`"
  type        = string
  default     = ""

  # Empty by default so the file needs no organisation's name; an apply without it stops here.
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "Set github_repository to the GitHub repository as owner/name (TF_VAR_github_repository)."
  }
}

variable "codeconnections_arn" {
  description = "CodeConnections connection to GitHub for the in-VPC deploy runner (created and authorised once per account)"
  type        = string
  default     = ""
}

variable "api_host" {
  description = "The public API host (CloudFront alias); empty means `api.<knative_domain>`"
  type        = string
  default     = ""
}

variable "cdn_certificate_arn" {
  description = "ACM certificate in us-east-1 for the API host (CloudFront)"
  type        = string
  default     = ""
}

variable "logs_admin_role_arn" {
  description = "IAM role administering the OpenSearch log domain (fine-grained access master)"
  type        = string
  default     = ""
}
