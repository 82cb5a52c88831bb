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
  description = "Public ALB, CloudFront's origin (it accepts only CloudFront; alias the API host to cdn_domain_name)"
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

output "region" {
  description = "AWS region of the stack"
  value       = try(module.platform.region, null)
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint (private: reach it from inside the VPC)"
  value       = try(module.platform.cluster_endpoint, null)
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API"
  value       = try(module.platform.cluster_certificate_authority_data, null)
}

output "cluster_arn" {
  description = "EKS cluster ARN"
  value       = try(module.platform.cluster_arn, null)
}

output "vpc_id" {
  description = "VPC of the cluster"
  value       = try(module.platform.vpc_id, null)
}

output "private_subnet_ids" {
  description = "Private subnets of the nodes"
  value       = try(module.platform.private_subnet_ids, null)
}

output "node_security_group_id" {
  description = "Security group of the nodes"
  value       = try(module.platform.node_security_group_id, null)
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster"
  value       = try(module.platform.oidc_provider_arn, null)
}

output "oidc_issuer" {
  description = "OIDC issuer of the cluster, without scheme"
  value       = try(module.platform.oidc_issuer, null)
}

output "target_group_arn" {
  description = "ALB target group of the Knative ingress"
  value       = try(module.platform.target_group_arn, null)
}

output "kafka_source_role_arn" {
  description = "IRSA role of the Knative Kafka source data plane"
  value       = try(module.platform.kafka_source_role_arn, null)
}

output "karpenter_queue_name" {
  description = "Interruption queue of Karpenter"
  value       = try(module.platform.karpenter_queue_name, null)
}

output "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches"
  value       = try(module.platform.karpenter_node_role_name, null)
}

output "deploy_role_arn" {
  description = "`AWS_DEPLOY_ROLE_ARN` of this stack's GitHub environments"
  value       = try(module.platform.deploy_role_arn, null)
}

output "deploy_runner_project" {
  description = "CodeBuild project of the in-VPC deploy runner (`DEPLOY_RUNNER` of the GitHub environments)"
  value       = try(module.platform.deploy_runner_project, null)
}

output "cdn_domain_name" {
  description = "CloudFront domain: alias the API host to it"
  value       = try(module.platform.cdn_domain_name, null)
}

output "cdn_hosted_zone_id" {
  description = "Hosted zone of the CloudFront distribution"
  value       = try(module.platform.cdn_hosted_zone_id, null)
}

output "logs_endpoint" {
  description = "OpenSearch endpoint Fluent Bit ships to"
  value       = try(module.platform.logs_endpoint, null)
}

output "fluent_bit_role_arn" {
  description = "IRSA role of Fluent Bit"
  value       = try(module.platform.fluent_bit_role_arn, null)
}

output "fluent_bit_service_account" {
  description = "The `namespace/name` Fluent Bit runs as"
  value       = try(module.platform.fluent_bit_service_account, null)
}
