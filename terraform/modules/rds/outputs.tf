output "proxy_endpoint" {
  description = "Host of RDS Proxy: the DATABASE_URL host of every function"
  value       = try(aws_db_proxy.this.endpoint, null)
}

output "primary_address" {
  description = "Host of the primary instance (administration only; functions go through the proxy)"
  value       = try(aws_db_instance.this.address, null)
}

output "read_endpoint" {
  description = "One host over all read replicas (weighted DNS): the DATABASE_READ_URL host"
  value       = var.replica_count > 0 ? "read.${var.read_dns_name}" : try(aws_db_proxy.this.endpoint, null)
}

output "replica_addresses" {
  description = "Host of each read replica"
  value       = try(aws_db_instance.replica[*].address, [])
}

output "port" {
  description = "MySQL port"
  value       = try(aws_db_instance.this.port, 3306)
}

output "db_name" {
  description = "Schema of the application"
  value       = var.db_name
}

output "master_user_secret_arn" {
  description = "Secret (managed by RDS) with the master credentials"
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "proxy_security_group_id" {
  description = "Security group of RDS Proxy"
  value       = try(aws_security_group.proxy.id, null)
}
