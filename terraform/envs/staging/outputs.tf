output "cluster_name" {
  description = "EKS cluster name"
  value       = try(module.platform.cluster_name, null)
}

output "database_host" {
  description = "DATABASE_URL host (RDS Proxy, TLS required)"
  value       = try(module.platform.database_host, null)
}

output "database_read_host" {
  description = "DATABASE_READ_URL host (weighted DNS over the read replicas)"
  value       = try(module.platform.database_read_host, null)
}

output "database_port" {
  description = "MySQL port"
  value       = try(module.platform.database_port, null)
}

output "database_name" {
  description = "MySQL schema"
  value       = try(module.platform.database_name, null)
}

output "redis_primary_endpoint" {
  description = "REDIS_URL host (`rediss://`, AUTH token in the `redis-auth` secret)"
  value       = try(module.platform.redis_primary_endpoint, null)
}

output "kafka_bootstrap_brokers" {
  description = "KAFKA_BROKERS (SASL/IAM over TLS)"
  value       = try(module.platform.kafka_bootstrap_brokers, null)
}

output "kafka_replication_factor" {
  description = "KAFKA_REPLICATION_FACTOR"
  value       = try(module.platform.kafka_replication_factor, null)
}

output "kafka_consumer_group_prefix" {
  description = "Prefix of every KafkaSource consumerGroup"
  value       = try(module.platform.kafka_consumer_group_prefix, null)
}

output "ecr_repository_urls" {
  description = "Image repository URL per function"
  value       = try(module.platform.ecr_repository_urls, null)
}

output "secret_names" {
  description = "Secrets Manager name per short secret name"
  value       = try(module.platform.secret_names, null)
}

output "function_role_arns" {
  description = "IRSA role per function"
  value       = try(module.platform.function_role_arns, null)
}

output "functions_namespace" {
  description = "Namespace of the functions and their service accounts"
  value       = try(module.platform.functions_namespace, null)
}

output "alb_dns_name" {
  description = "Public ALB (alias `*.concert.<domain>` to it)"
  value       = try(module.platform.alb_dns_name, null)
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB for alias records"
  value       = try(module.platform.alb_zone_id, null)
}

output "knative_domain" {
  description = "Domain of the Knative services"
  value       = try(module.platform.knative_domain, null)
}
