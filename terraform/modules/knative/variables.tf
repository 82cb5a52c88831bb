variable "operator_chart_version" {
  description = "Version of the `knative-operator` chart (https://knative.github.io/operator); Serving, Eventing and the Kafka source follow it. 1.20+ is needed for MSK IAM authentication in the Kafka data plane"
  type        = string
  default     = "v1.22.3"
}

variable "domain" {
  description = "Public domain of the Knative services (`<service>.<namespace>.<domain>`), served through the ALB"
  type        = string
  default     = "example.com"
}

variable "high_availability_replicas" {
  description = "Replicas of the Knative control plane components (activator, autoscaler, controllers, Kourier)"
  type        = number
  default     = 2
}

variable "kafka_source_role_arn" {
  description = "IRSA role of the Kafka source data plane (consumes the trigger topics from MSK with IAM)"
  type        = string
  default     = null
}

variable "kafka_source_service_account" {
  description = "Service account of the Kafka source data plane in `knative-eventing`, annotated with `kafka_source_role_arn`"
  type        = string
  default     = "knative-kafka-source-data-plane"
}

