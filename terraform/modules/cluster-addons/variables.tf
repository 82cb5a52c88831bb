variable "cluster_name" {
  description = "EKS cluster (stage one output `cluster_name`)"
  type        = string
  default     = ""
}

variable "vpc_id" {
  description = "VPC of the cluster (stage one output `vpc_id`)"
  type        = string
  default     = ""
}

variable "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster, for the controllers' IRSA roles"
  type        = string
  default     = ""
}

variable "oidc_issuer" {
  description = "OIDC issuer host and path, without scheme"
  type        = string
  default     = ""
}

variable "target_group_arn" {
  description = "ALB target group the public Gateway's Envoy proxy pods are bound to"
  type        = string
  default     = ""
}

variable "kafka_source_role_arn" {
  description = "IRSA role of the Kafka source data plane"
  type        = string
  default     = ""
}

variable "knative_operator_chart_version" {
  description = "Version of the `knative-operator` chart"
  type        = string
  default     = "v1.22.3"
}

variable "envoy_gateway_chart_version" {
  description = "Version of the Envoy Gateway chart (`oci://docker.io/envoyproxy/gateway-helm`), the Gateway API implementation"
  type        = string
  default     = "v1.9.1"
}

variable "knative_domain" {
  description = "Public domain of the Knative services"
  type        = string
  default     = "example.com"
}

variable "knative_ha_replicas" {
  description = "Replicas of the Knative control plane components"
  type        = number
  default     = 2
}

variable "functions_namespace" {
  description = "Namespace of the functions; each GitHub environment's deploy role may edit only this one"
  type        = string
  default     = "concert"
}

variable "function_role_arns" {
  description = "IRSA role per function (stage one output `function_role_arns`): one service account each"
  type        = map(string)
  default     = {}
}

variable "karpenter_chart_version" {
  description = "Version of the `karpenter` chart (oci://public.ecr.aws/karpenter); the stage one module's major must match"
  type        = string
  default     = "1.8.2"
}

variable "karpenter_queue_name" {
  description = "Interruption queue of Karpenter (stage one output `karpenter_queue_name`)"
  type        = string
  default     = ""
}

variable "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches (stage one output `karpenter_node_role_name`)"
  type        = string
  default     = ""
}

variable "karpenter_ami_alias" {
  description = "AMI family and version of Karpenter's nodes (pin a dated version, e.g. `al2023@v20260101`, in prod)"
  type        = string
  default     = "al2023@latest"
}

variable "node_subnet_ids" {
  description = "Private subnets Karpenter launches nodes in"
  type        = list(string)
  default     = []
}

variable "node_security_group_id" {
  description = "Security group of the nodes (the cluster security group, as for the managed nodes)"
  type        = string
  default     = ""
}

variable "karpenter_capacity_types" {
  description = "Capacity types Karpenter may buy (`on-demand`, `spot`)"
  type        = list(string)
  default     = ["on-demand"]
}

variable "karpenter_cpu_limit" {
  description = "Most vCPU the NodePool may hold at once: the Services' requests at max scale plus headroom"
  type        = string
  default     = "96"
}

variable "karpenter_memory_limit" {
  description = "Most memory the NodePool may hold at once"
  type        = string
  default     = "192Gi"
}

variable "karpenter_consolidate_after" {
  description = "How long a node stays underused before Karpenter removes it"
  type        = string
  default     = "10m"
}

variable "tags" {
  description = "Tags added to AWS resources the controllers create"
  type        = map(string)
  default     = {}
}

variable "region" {
  description = "AWS region of the log domain (Fluent Bit signs its requests for it)"
  type        = string
  default     = "ap-northeast-2"
}

variable "fluent_bit_chart_version" {
  description = "Version of the fluent-bit Helm chart (fluent/helm-charts)"
  type        = string
  default     = "0.47.10"
}

variable "logs_endpoint" {
  description = "OpenSearch endpoint host of the log domain (stage one's `logs_endpoint`)"
  type        = string
  default     = ""
}

variable "fluent_bit_role_arn" {
  description = "IRSA role of Fluent Bit (stage one's `fluent_bit_role_arn`)"
  type        = string
  default     = ""
}

variable "fluent_bit_service_account" {
  description = "The `namespace/name` Fluent Bit's role trusts (stage one's `fluent_bit_service_account`)"
  type        = string
  default     = "logging/fluent-bit"
}
