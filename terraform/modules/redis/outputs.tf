output "primary_endpoint" {
  description = "Primary endpoint (follows failover): the REDIS_URL host, with `rediss://` since TLS is required"
  value       = try(aws_elasticache_replication_group.this.primary_endpoint_address, null)
}

output "reader_endpoint" {
  description = "Reader endpoint over the replicas"
  value       = try(aws_elasticache_replication_group.this.reader_endpoint_address, null)
}

output "port" {
  description = "Redis port"
  value       = try(aws_elasticache_replication_group.this.port, 6379)
}

output "security_group_id" {
  description = "Security group of the replication group"
  value       = try(aws_security_group.this.id, null)
}
