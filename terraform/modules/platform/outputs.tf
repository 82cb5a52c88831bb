output "region" {
  description = "AWS region of the stack"
  value       = local.region
}

output "cluster_name" {
  description = "EKS cluster name (`aws eks update-kubeconfig --name ...`)"
  value       = try(module.eks.cluster_name, null)
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint"
  value       = try(module.eks.cluster_endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API"
  value       = try(module.eks.cluster_certificate_authority_data, null)
}

output "database_host" {
  description = "DATABASE_URL host: RDS Proxy in front of the MySQL primary (TLS required)"
  value       = try(module.rds.proxy_endpoint, null)
}

output "database_read_host" {
  description = "DATABASE_READ_URL host: weighted DNS over the read replicas"
  value       = try(module.rds.read_endpoint, null)
}

output "database_port" {
  description = "MySQL port"
  value       = try(module.rds.port, null)
}

output "database_name" {
  description = "MySQL schema of the application"
  value       = try(module.rds.db_name, null)
}

output "database_replica_hosts" {
  description = "Each read replica's own host"
  value       = try(module.rds.replica_addresses, [])
}

output "redis_primary_endpoint" {
  description = "REDIS_URL host (use `rediss://`: TLS and AUTH are required; the token is the `redis-auth` secret)"
  value       = try(module.redis.primary_endpoint, null)
}

output "redis_port" {
  description = "Redis port"
  value       = try(module.redis.port, null)
}

output "kafka_bootstrap_brokers" {
  description = "KAFKA_BROKERS: MSK bootstrap brokers for SASL/IAM over TLS"
  value       = try(module.msk.bootstrap_brokers_sasl_iam, null)
}

output "kafka_replication_factor" {
  description = "KAFKA_REPLICATION_FACTOR for topics the relay creates"
  value       = try(module.msk.replication_factor, null)
}

output "ecr_repository_urls" {
  description = "Image repository URL per function"
  value       = try(module.ecr.repository_urls, {})
}

output "secret_names" {
  description = "Secrets Manager name per short secret name (for ExternalSecrets)"
  value       = try(module.secrets.secret_names, {})
}

output "function_role_arns" {
  description = "IRSA role per function (already annotated on the service accounts Terraform created)"
  value       = try({ for name, irsa in module.function_irsa : name => irsa.role_arn }, {})
}

output "functions_namespace" {
  description = "Namespace of the functions; each function's Knative Service sets `serviceAccountName` to its own name"
  value       = try(kubernetes_namespace_v1.this.metadata[0].name, null)
}

output "kafka_consumer_group_prefix" {
  description = "Prefix every KafkaSource `consumerGroup` must start with"
  value       = var.kafka_consumer_group_prefix
}

output "alb_dns_name" {
  description = "DNS name of the public ALB (alias the API host names to it)"
  value       = try(module.ingress.dns_name, null)
}

output "alb_zone_id" {
  description = "Hosted zone of the ALB, for alias records"
  value       = try(module.ingress.zone_id, null)
}

output "knative_domain" {
  description = "Domain of the Knative services"
  value       = try(module.knative.domain, null)
}
