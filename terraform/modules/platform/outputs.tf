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
  value       = var.functions_namespace
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
  value       = var.knative_domain
}

################################################################################
# Read by stage two (envs/<env>-cluster) through this root's remote state
################################################################################

output "cluster_arn" {
  description = "EKS cluster ARN"
  value       = try(module.eks.cluster_arn, null)
}

output "vpc_id" {
  description = "VPC of the cluster"
  value       = try(module.vpc.vpc_id, null)
}

output "private_subnet_ids" {
  description = "Private subnets of the nodes (Karpenter's EC2NodeClass selects them)"
  value       = try(module.vpc.private_subnet_ids, [])
}

output "node_security_group_id" {
  description = "Security group of the nodes (the cluster security group)"
  value       = try(module.eks.cluster_security_group_id, null)
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (IRSA)"
  value       = try(module.eks.oidc_provider_arn, null)
}

output "oidc_issuer" {
  description = "OIDC issuer of the cluster, without scheme"
  value       = try(module.eks.oidc_issuer, null)
}

output "target_group_arn" {
  description = "ALB target group of the public Gateway's Envoy proxy pods (TargetGroupBinding)"
  value       = try(module.ingress.target_group_arn, null)
}

output "kafka_source_role_arn" {
  description = "IRSA role of the Knative Kafka source data plane"
  value       = try(module.kafka_source_irsa.role_arn, null)
}

output "karpenter_queue_name" {
  description = "Interruption queue of Karpenter"
  value       = try(module.karpenter.queue_name, null)
}

output "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches"
  value       = try(module.karpenter.node_iam_role_name, null)
}

output "deploy_role_arn" {
  description = "Role the GitHub environments of this cluster deploy with (`AWS_DEPLOY_ROLE_ARN`)"
  value       = try(module.deploy_role.role_arn, null)
}

output "deploy_runner_project" {
  description = "CodeBuild project the deploy jobs run on, inside the VPC"
  value       = try(module.deploy_runner.project_name, null)
}

output "cdn_domain_name" {
  description = "CloudFront domain: the API host's alias record points here"
  value       = try(module.cdn.domain_name, null)
}

output "cdn_hosted_zone_id" {
  description = "Hosted zone of the CloudFront distribution, for the alias record"
  value       = try(module.cdn.hosted_zone_id, null)
}

output "cdn_distribution_id" {
  description = "CloudFront distribution ID (for invalidations)"
  value       = try(module.cdn.distribution_id, null)
}

output "logs_endpoint" {
  description = "OpenSearch endpoint Fluent Bit ships to"
  value       = try(module.logs.endpoint, null)
}

output "fluent_bit_role_arn" {
  description = "IRSA role of Fluent Bit"
  value       = try(module.logs.fluent_bit_role_arn, null)
}

output "fluent_bit_service_account" {
  description = "The `namespace/name` Fluent Bit's role trusts"
  value       = try(module.logs.fluent_bit_service_account, null)
}
