variable "name" {
  description = "Name of the environment's stack (e.g. `concert-prod`): prefix of every resource"
  type        = string
  default     = "concert-dev"
}

variable "environment" {
  description = "Environment name (`dev`, `staging`, `prod`), part of secret paths and tags"
  type        = string
  default     = "dev"
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC"
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "Availability zones used, by name (2 or 3)"
  type        = list(string)
  default     = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone"
  type        = bool
  default     = false
}

################################################################################
# EKS and Knative
################################################################################

variable "kubernetes_version" {
  description = "Kubernetes version of the cluster"
  type        = string
  default     = "1.33"
}

variable "eks_endpoint_public_access" {
  description = "Public Kubernetes API endpoint (limited to `eks_public_access_cidrs`)"
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to the public Kubernetes API endpoint"
  type        = list(string)
  default     = []
}

variable "eks_admin_principal_arns" {
  description = "IAM principals given cluster-admin"
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the node group"
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_capacity_type" {
  description = "`ON_DEMAND` or `SPOT`"
  type        = string
  default     = "ON_DEMAND"
}

variable "node_min_size" {
  description = "Minimum nodes"
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Nodes at creation"
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes"
  type        = number
  default     = 6
}

variable "knative_domain" {
  description = "Public domain of the Knative services (the ACM certificate must cover `*.<namespace>.<domain>`)"
  type        = string
  default     = "example.com"
}

variable "functions_namespace" {
  description = "Kubernetes namespace of the functions and triggers"
  type        = string
  default     = "concert"
}

variable "functions" {
  description = "Every function and trigger: which secrets (short names from the secrets module) its service account may read, and whether it produces to the event topics. The Kafka source, not the triggers, consumes."
  type = map(object({
    secrets       = list(string)
    kafka_produce = optional(bool, false)
  }))
  default = {
    enter-queue   = { secrets = ["db-app", "redis-app", "auth-jwt", "queue-token"] }
    list-seats    = { secrets = ["db-app", "redis-app", "auth-jwt", "queue-token"] }
    hold-seat     = { secrets = ["db-app", "redis-app", "auth-jwt", "queue-token"] }
    pay           = { secrets = ["db-app", "redis-app", "auth-jwt", "queue-token"] }
    charge-points = { secrets = ["db-app", "redis-app", "auth-jwt"] }
    web           = { secrets = ["db-app", "redis-app"] }
    expire-holds  = { secrets = ["db-app", "redis-app"] }
    admit-queue   = { secrets = ["db-app", "redis-app"] }
    outbox-relay  = { secrets = ["db-app"], kafka_produce = true }
    release-seat  = { secrets = ["db-app", "redis-app"] }
    notify        = { secrets = ["db-app", "notify-app"] }
  }
}

variable "event_topics" {
  description = "Kafka topics of the domain events (docs/api.md) and `dead-letter` (what the Kafka sources gave up on, kept by the relay): the outbox relay writes them, the Kafka source reads them"
  type        = list(string)
  default     = ["reservation.created", "reservation.expired", "reservation.cancelled", "payment.completed", "queue.activated", "dead-letter"]
}

variable "kafka_consumer_group_prefix" {
  description = "Consumer groups the Kafka source may join: every KafkaSource must set `consumerGroup` with this prefix"
  type        = string
  default     = "concert-"
}

################################################################################
# Ingress
################################################################################

variable "certificate_arn" {
  description = "ACM certificate of the public host names (HTTPS only)"
  type        = string
  default     = ""
}

variable "api_host" {
  description = "The one public API host clients use (CloudFront's alias); empty means `api.<knative_domain>`"
  type        = string
  default     = ""
}

variable "cdn_certificate_arn" {
  description = "ACM certificate in us-east-1 for the API host, served by CloudFront"
  type        = string
  default     = ""
}

variable "cdn_cached_path_patterns" {
  description = "Paths CloudFront may cache, as the API marks them `Cache-Control: public` (tests/deploy checks the two agree)"
  type        = list(string)
  default     = ["/docs/*", "/v1/concerts*", "/assets/*"]
}

variable "logs_instance_type" {
  description = "OpenSearch data node instance type of the log domain"
  type        = string
  default     = "r7g.large.search"
}

variable "logs_instance_count" {
  description = "OpenSearch data nodes of the log domain"
  type        = number
  default     = 3
}

variable "logs_volume_size" {
  description = "EBS volume per OpenSearch data node, GiB"
  type        = number
  default     = 100
}

variable "logs_create_service_linked_role" {
  description = "Create OpenSearch's service-linked role; false for every environment after the first in one AWS account"
  type        = bool
  default     = true
}

variable "logs_admin_role_arn" {
  description = "IAM role that administers the log domain (its fine-grained access master user)"
  type        = string
  default     = ""
}

variable "waf_rate_limit_per_minute" {
  description = "Requests per client IP per minute before WAF blocks it"
  type        = number
  default     = 600
}

variable "deletion_protection" {
  description = "Deletion protection of the ALB and the database instances"
  type        = bool
  default     = true
}

################################################################################
# Data tier
################################################################################

variable "db_instance_class" {
  description = "Instance class of the MySQL primary"
  type        = string
  default     = "db.t4g.medium"
}

variable "db_replica_instance_class" {
  description = "Instance class of the read replicas (null: as the primary)"
  type        = string
  default     = null
}

variable "db_replica_count" {
  description = "Read replicas of MySQL"
  type        = number
  default     = 2
}

variable "db_multi_az" {
  description = "Multi-AZ standby of the MySQL primary"
  type        = bool
  default     = true
}

variable "db_allocated_storage" {
  description = "Initial MySQL storage, GiB"
  type        = number
  default     = 50
}

variable "db_max_allocated_storage" {
  description = "MySQL storage autoscaling ceiling, GiB"
  type        = number
  default     = 200
}

variable "db_backup_retention_period" {
  description = "Days of MySQL automated backups"
  type        = number
  default     = 7
}

variable "redis_node_type" {
  description = "ElastiCache node type"
  type        = string
  default     = "cache.t4g.medium"
}

variable "redis_num_cache_clusters" {
  description = "Redis primary plus replicas"
  type        = number
  default     = 3
}

variable "redis_multi_az" {
  description = "Redis replicas in other zones with cross-zone failover"
  type        = bool
  default     = true
}

variable "msk_broker_instance_type" {
  description = "MSK broker instance type"
  type        = string
  default     = "kafka.t3.small"
}

variable "msk_broker_count" {
  description = "MSK brokers (a multiple of the number of `azs`)"
  type        = number
  default     = 3
}

variable "msk_broker_volume_size" {
  description = "Storage per broker, GiB"
  type        = number
  default     = 50
}

variable "log_retention_in_days" {
  description = "Retention of every CloudWatch log group of the stack"
  type        = number
  default     = 365
}

variable "notify_webhook_url" {
  description = "Where notify posts signed notifications (the `url` of the `notify-app` secret); empty: notify records them and sends nothing"
  type        = string
  default     = ""
}

variable "supplied_secret_values" {
  description = "Secret values given from outside by short name (e.g. `auth-jwt` shared with an identity provider); the rest are generated"
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

################################################################################
# Delivery
################################################################################

variable "github_repository" {
  description = "GitHub repository that deploys this stack, as `owner/name`"
  type        = string
  default     = ""
}

variable "github_environments" {
  description = "GitHub environments whose jobs deploy to this cluster (their `environment:` in .github/workflows/deploy.yml)"
  type        = list(string)
  default     = []
}

variable "codeconnections_arn" {
  description = "CodeConnections connection to GitHub that the in-VPC deploy runner registers through"
  type        = string
  default     = ""
}
