# The managed form of the seed's ELK: an OpenSearch domain inside the VPC that Fluent Bit (stage two) writes
# the pods' JSON log lines to, signing its requests with the IRSA role below.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  domain_arn = "arn:${data.aws_partition.current.partition}:es:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:domain/${var.name}"
  log_types  = ["INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"]
}

# A domain in a VPC needs this role to place its network interfaces; an empty account does not have it yet.
resource "aws_iam_service_linked_role" "opensearch" {
  count            = var.create_service_linked_role ? 1 : 0
  aws_service_name = "opensearchservice.amazonaws.com"
  tags             = var.tags
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "OpenSearch domain ${var.name}: HTTPS from the cluster's nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = toset(var.client_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS from ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = each.value
}

resource "aws_cloudwatch_log_group" "domain" {
  for_each = toset(local.log_types)

  name              = "/aws/opensearch/${var.name}/${lower(each.value)}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    actions   = ["logs:PutLogEvents", "logs:CreateLogStream"]
    resources = [for g in aws_cloudwatch_log_group.domain : "${g.arn}:*"]
    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "this" {
  policy_name     = "${var.name}-opensearch"
  policy_document = data.aws_iam_policy_document.log_delivery.json
}

resource "aws_opensearch_domain" "this" {
  domain_name    = var.name
  engine_version = var.engine_version
  tags           = var.tags

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = var.instance_count
    dedicated_master_enabled = true
    dedicated_master_type    = var.master_instance_type
    dedicated_master_count   = 3
    zone_awareness_enabled   = length(var.subnet_ids) > 1

    dynamic "zone_awareness_config" {
      for_each = length(var.subnet_ids) > 1 ? [1] : []
      content {
        availability_zone_count = min(length(var.subnet_ids), 3)
      }
    }
  }

  vpc_options {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.volume_size
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
  }

  # Fine-grained access with an IAM master: no password exists; other roles (Fluent Bit's) are mapped to
  # OpenSearch roles by that master, as docs/deploy.md's runbook shows.
  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false
    master_user_options {
      master_user_arn = var.admin_role_arn
    }
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["INDEX_SLOW_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["SEARCH_SLOW_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["ES_APPLICATION_LOGS"].arn
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    enabled                  = true
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["AUDIT_LOGS"].arn
  }

  depends_on = [aws_cloudwatch_log_resource_policy.this, aws_iam_service_linked_role.opensearch]

  lifecycle {
    precondition {
      condition     = var.admin_role_arn != ""
      error_message = "admin_role_arn is required: it is the fine-grained access master of the log domain."
    }
  }
}

# IAM admits only these two roles; inside, fine-grained access decides what each may do.
data "aws_iam_policy_document" "domain" {
  statement {
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]
    resources = ["${local.domain_arn}/*"]
    principals {
      type        = "AWS"
      identifiers = [var.admin_role_arn, module.fluent_bit_irsa.role_arn]
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = aws_opensearch_domain.this.domain_name
  access_policies = data.aws_iam_policy_document.domain.json
}

################################################################################
# Fluent Bit's role: write log documents to this domain, nothing else
################################################################################

data "aws_iam_policy_document" "fluent_bit" {
  statement {
    sid       = "WriteLogs"
    actions   = ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet", "es:ESHttpHead"]
    resources = [local.domain_arn, "${local.domain_arn}/*"]
  }
}

module "fluent_bit_irsa" {
  source = "../irsa"

  name              = "${var.name}-fluent-bit"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  namespace         = var.fluent_bit_namespace
  service_account   = var.fluent_bit_service_account
  policy_json       = data.aws_iam_policy_document.fluent_bit.json
  tags              = var.tags
}
