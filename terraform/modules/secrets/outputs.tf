output "secret_arns" {
  description = "ARN of every secret by short name, `db-app`, `redis-app` and `notify-app` included"
  value       = merge({ for name, s in aws_secretsmanager_secret.this : name => s.arn }, { db-app = try(aws_secretsmanager_secret.db.arn, null), redis-app = try(aws_secretsmanager_secret.redis.arn, null), notify-app = try(aws_secretsmanager_secret.notify.arn, null) })
}

output "secret_names" {
  description = "Full name of every secret by short name, `db-app`, `redis-app` and `notify-app` included"
  value       = merge({ for name, s in aws_secretsmanager_secret.this : name => s.name }, { db-app = try(aws_secretsmanager_secret.db.name, null), redis-app = try(aws_secretsmanager_secret.redis.name, null), notify-app = try(aws_secretsmanager_secret.notify.name, null) })
}

output "db_secret_arn" {
  description = "ARN of the functions' MySQL credentials (read by RDS Proxy)"
  value       = try(aws_secretsmanager_secret.db.arn, null)
}

output "redis_auth_token" {
  description = "The ElastiCache AUTH token, handed to the Redis module"
  value       = try(local.values["redis-auth"], null)
  sensitive   = true
}
