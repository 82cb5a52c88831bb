variable "name" {
  description = "Name of the EKS cluster"
  type        = string
  default     = "concert"
}

variable "kubernetes_version" {
  description = "Kubernetes `<major>.<minor>` version of the control plane and the node group"
  type        = string
  default     = "1.33"
}

variable "vpc_id" {
  description = "VPC of the cluster"
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes"
  type        = list(string)
  default     = []
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API on a public endpoint (restricted to `endpoint_public_access_cidrs`); off means Terraform and kubectl must run from inside the VPC (VPN, SSM tunnel or an in-VPC CI runner)"
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint when it is on; never 0.0.0.0/0"
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key that envelope-encrypts Kubernetes Secrets and the node volumes"
  type        = string
  default     = null
}

variable "logs_kms_key_arn" {
  description = "KMS key of the control plane log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the control plane logs"
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "Instance types of the managed node group, in order of preference"
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_capacity_type" {
  description = "`ON_DEMAND` or `SPOT`"
  type        = string
  default     = "ON_DEMAND"
}

variable "node_min_size" {
  description = "Minimum nodes of the managed node group"
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Nodes at creation; later changes come from the cluster autoscaler and are ignored by Terraform"
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes of the managed node group"
  type        = number
  default     = 6
}

variable "node_disk_size" {
  description = "Root volume size of each node, GiB"
  type        = number
  default     = 50
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster-admin through EKS access entries (besides the identity that creates the cluster)"
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
