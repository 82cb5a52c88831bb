variable "name" {
  description = "Cluster name and name prefix"
  type        = string
  default     = "concert"
}

variable "vpc_id" {
  description = "VPC of the brokers"
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Data subnets, one per zone; brokers are spread evenly over them"
  type        = list(string)
  default     = []
}

variable "client_cidrs" {
  description = "CIDRs of the clients (EKS private subnets) allowed to the IAM/TLS listener and the Prometheus exporters"
  type        = list(string)
  default     = []
}

variable "kafka_version" {
  description = "Apache Kafka version of the brokers"
  type        = string
  default     = "3.9.x"
}

variable "broker_instance_type" {
  description = "Broker instance type"
  type        = string
  default     = "kafka.m7g.large"
}

variable "broker_count" {
  description = "Number of brokers, a multiple of the number of subnets"
  type        = number
  default     = 3
}

variable "broker_volume_size" {
  description = "EBS storage per broker, GiB"
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "KMS key encrypting the broker volumes"
  type        = string
  default     = null
}

variable "logs_kms_key_arn" {
  description = "KMS key of the broker log group"
  type        = string
  default     = null
}

variable "log_retention_in_days" {
  description = "Retention of the broker logs"
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
