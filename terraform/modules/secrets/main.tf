locals {
  supplied = nonsensitive(toset(keys(var.supplied_values)))

  values = {
    for name, _ in var.secrets :
    name => contains(local.supplied, name) ? var.supplied_values[name] : random_password.this[name].result
  }

  db_password = contains(local.supplied, "db-app") ? var.supplied_values["db-app"] : random_password.db.result
}

# Generated values live only in Secrets Manager and in the (encrypted) Terraform state, never in the repo.
resource "random_password" "this" {
  for_each = var.secrets

  length  = each.value.length
  special = false
}

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:HS256 keys and the AUTH token are rotated by replacing the random_password (terraform apply -replace) in a planned window; a rotation Lambda cannot roll them without the functions restarting.
  for_each = var.secrets

  name                    = "${var.path_prefix}/${each.key}"
  description             = each.value.description
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each = var.secrets

  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = local.values[each.key]
}

# The functions' MySQL credentials in the shape RDS Proxy reads (username/password) plus where to connect,
# so a deployment can template DATABASE_URL from this one secret.
resource "aws_secretsmanager_secret" "db" {
  #checkov:skip=CKV2_AWS_57:The application user is rotated with the RDS Proxy in a planned window (new password, ALTER USER, apply); single-user Lambda rotation would cut live connections of scale-to-zero functions mid-hold.
  name                    = "${var.path_prefix}/db-app"
  description             = "MySQL credentials of the functions (through RDS Proxy)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({
    engine   = "mysql"
    username = var.db_username
    password = local.db_password
    host     = var.db_host
    port     = var.db_port
    dbname   = var.db_name
    # Empty without replicas; knative/generate.ts templates DATABASE_READ_URL from it.
    read_host = var.db_read_host
    url       = "mysql://${var.db_username}:${local.db_password}@${var.db_host}:${var.db_port}/${var.db_name}"
  })
}

# Each function's ExternalSecret (knative/generate.ts) reads whole secrets, so what one function may see is
# grouped per use: Redis's address travels with its token, the webhook's URL with its signing key.
resource "aws_secretsmanager_secret" "redis" {
  #checkov:skip=CKV2_AWS_57:The token is the `redis-auth` value, rotated with it (see that secret).
  name                    = "${var.path_prefix}/redis-app"
  description             = "Where the functions reach Redis (TLS) and its AUTH token"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "redis" {
  secret_id = aws_secretsmanager_secret.redis.id
  secret_string = jsonencode({
    host       = var.redis_host
    port       = var.redis_port
    auth_token = try(local.values["redis-auth"], "")
  })
}

resource "aws_secretsmanager_secret" "notify" {
  #checkov:skip=CKV2_AWS_57:The signing key is the `webhook` value, rotated with it (see that secret).
  name                    = "${var.path_prefix}/notify-app"
  description             = "Where notify posts notifications and the HMAC key that signs them"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "notify" {
  secret_id = aws_secretsmanager_secret.notify.id
  secret_string = jsonencode({
    url         = var.notify_webhook_url
    signing_key = try(local.values["webhook"], "")
  })
}
