output "cluster_arn" {
  description = "ARN of the MSK cluster"
  value       = try(aws_msk_cluster.this.arn, null)
}

output "cluster_name" {
  description = "Name of the MSK cluster"
  value       = try(aws_msk_cluster.this.cluster_name, null)
}

output "bootstrap_brokers_sasl_iam" {
  description = "Bootstrap brokers for SASL/IAM over TLS (port 9098): the KAFKA_BROKERS value"
  value       = try(aws_msk_cluster.this.bootstrap_brokers_sasl_iam, null)
}

output "topic_arn_prefix" {
  description = "ARN prefix of this cluster's topics (`<prefix>/<topic name>`), for IAM policies"
  value       = try(replace(aws_msk_cluster.this.arn, ":cluster/", ":topic/"), null)
}

output "group_arn_prefix" {
  description = "ARN prefix of this cluster's consumer groups (`<prefix>/<group id>`), for IAM policies"
  value       = try(replace(aws_msk_cluster.this.arn, ":cluster/", ":group/"), null)
}

output "replication_factor" {
  description = "Replication factor topics should be created with (KAFKA_REPLICATION_FACTOR)"
  value       = local.replication_factor
}

output "security_group_id" {
  description = "Security group of the brokers"
  value       = try(aws_security_group.this.id, null)
}
