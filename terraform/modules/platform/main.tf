data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region
  tags   = merge(var.tags, { Project = "concert", Environment = var.environment })

  autoscaling_service_role = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"

  api_host = var.api_host != "" ? var.api_host : "api.${var.knative_domain}"

  topic_arns = [for topic in var.event_topics : "${module.msk.topic_arn_prefix}/${topic}"]
}

################################################################################
# Keys: one for data at rest (databases, brokers, secrets, images, node volumes), one for log groups
################################################################################

module "kms_data" {
  source = "../kms"

  name              = "${var.name}-data"
  description       = "Data at rest of ${var.name}"
  service_role_arns = [local.autoscaling_service_role]
  tags              = local.tags
}

module "kms_logs" {
  source = "../kms"

  name               = "${var.name}-logs"
  description        = "CloudWatch log groups of ${var.name}"
  service_principals = ["logs.${local.region}.amazonaws.com"]
  service_principal_condition = {
    ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:${local.region}:${data.aws_caller_identity.current.account_id}:*" }
  }
  tags = local.tags
}

################################################################################
# Network and cluster
################################################################################

module "vpc" {
  source = "../vpc"

  name                       = var.name
  cidr                       = var.vpc_cidr
  azs                        = var.azs
  single_nat_gateway         = var.single_nat_gateway
  cluster_name               = var.name
  logs_kms_key_arn           = module.kms_logs.key_arn
  flow_log_retention_in_days = var.log_retention_in_days
  tags                       = local.tags
}

module "eks" {
  source = "../eks"

  name                         = var.name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.vpc.vpc_id
  subnet_ids                   = module.vpc.private_subnet_ids
  endpoint_public_access       = var.eks_endpoint_public_access
  endpoint_public_access_cidrs = var.eks_public_access_cidrs
  admin_principal_arns         = var.eks_admin_principal_arns
  kms_key_arn                  = module.kms_data.key_arn
  logs_kms_key_arn             = module.kms_logs.key_arn
  log_retention_in_days        = var.log_retention_in_days
  node_instance_types          = var.node_instance_types
  node_capacity_type           = var.node_capacity_type
  node_min_size                = var.node_min_size
  node_desired_size            = var.node_desired_size
  node_max_size                = var.node_max_size
  tags                         = local.tags
}

################################################################################
# Secrets and data tier
################################################################################

module "secrets" {
  source = "../secrets"

  path_prefix        = "concert/${var.environment}"
  kms_key_arn        = module.kms_data.key_arn
  supplied_values    = var.supplied_secret_values
  notify_webhook_url = var.notify_webhook_url
  db_host            = module.rds.proxy_endpoint
  db_port            = module.rds.port
  db_name            = module.rds.db_name
  db_read_host       = module.rds.read_endpoint
  redis_host         = module.redis.primary_endpoint
  redis_port         = module.redis.port
  tags               = local.tags
}

module "rds" {
  source = "../rds"

  name                    = var.name
  vpc_id                  = module.vpc.vpc_id
  subnet_ids              = module.vpc.data_subnet_ids
  client_cidrs            = module.vpc.private_subnet_cidrs
  instance_class          = var.db_instance_class
  replica_instance_class  = var.db_replica_instance_class
  replica_count           = var.db_replica_count
  multi_az                = var.db_multi_az
  allocated_storage       = var.db_allocated_storage
  max_allocated_storage   = var.db_max_allocated_storage
  backup_retention_period = var.db_backup_retention_period
  deletion_protection     = var.deletion_protection
  app_secret_arn          = module.secrets.db_secret_arn
  kms_key_arn             = module.kms_data.key_arn
  read_dns_name           = "db.${var.name}.internal"
  tags                    = local.tags
}

module "redis" {
  source = "../redis"

  name                  = var.name
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.data_subnet_ids
  client_cidrs          = module.vpc.private_subnet_cidrs
  node_type             = var.redis_node_type
  num_cache_clusters    = var.redis_num_cache_clusters
  multi_az_enabled      = var.redis_multi_az
  auth_token            = module.secrets.redis_auth_token
  kms_key_arn           = module.kms_data.key_arn
  logs_kms_key_arn      = module.kms_logs.key_arn
  log_retention_in_days = var.log_retention_in_days
  tags                  = local.tags
}

module "msk" {
  source = "../msk"

  name                  = var.name
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.data_subnet_ids
  client_cidrs          = module.vpc.private_subnet_cidrs
  broker_instance_type  = var.msk_broker_instance_type
  broker_count          = var.msk_broker_count
  broker_volume_size    = var.msk_broker_volume_size
  kms_key_arn           = module.kms_data.key_arn
  logs_kms_key_arn      = module.kms_logs.key_arn
  log_retention_in_days = var.log_retention_in_days
  tags                  = local.tags
}


################################################################################
# Public entry: WAF -> ALB -> Envoy Gateway -> Kourier
################################################################################

module "waf" {
  source = "../waf"

  name                  = var.name
  per_ip_rate_rules     = false
  rate_limit_per_minute = var.waf_rate_limit_per_minute
  logs_kms_key_arn      = module.kms_logs.key_arn
  log_retention_in_days = var.log_retention_in_days
  tags                  = local.tags
}

module "ingress" {
  source = "../ingress"

  name                   = var.name
  vpc_id                 = module.vpc.vpc_id
  public_subnet_ids      = module.vpc.public_subnet_ids
  target_cidrs           = module.vpc.private_subnet_cidrs
  node_security_group_id = module.eks.cluster_security_group_id
  certificate_arn        = var.certificate_arn
  web_acl_arn            = module.waf.web_acl_arn
  cloudfront_only        = true
  deletion_protection    = var.deletion_protection
  tags                   = local.tags
}


################################################################################
# Edge: CloudFront in front of the ALB, with its own web ACL. CloudFront reads its certificate and web ACL
# only from us-east-1, so this part runs on the caller's `aws.us_east_1` provider.
################################################################################

module "kms_edge_logs" {
  source    = "../kms"
  providers = { aws = aws.us_east_1 }

  name               = "${var.name}-edge-logs"
  description        = "Edge log groups of ${var.name} (us-east-1)"
  service_principals = ["logs.us-east-1.amazonaws.com"]
  service_principal_condition = {
    ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${data.aws_partition.current.partition}:logs:us-east-1:${data.aws_caller_identity.current.account_id}:*" }
  }
  tags = local.tags
}

module "cdn_waf" {
  source    = "../waf"
  providers = { aws = aws.us_east_1 }

  name                  = "${var.name}-edge"
  scope                 = "CLOUDFRONT"
  rate_limit_per_minute = var.waf_rate_limit_per_minute
  logs_kms_key_arn      = module.kms_edge_logs.key_arn
  log_retention_in_days = var.log_retention_in_days
  tags                  = local.tags
}

module "cdn" {
  source    = "../cdn"
  providers = { aws = aws.us_east_1 }

  name                  = var.name
  origin_domain_name    = module.ingress.dns_name
  aliases               = [local.api_host]
  certificate_arn       = var.cdn_certificate_arn
  web_acl_arn           = module.cdn_waf.web_acl_arn
  cached_path_patterns  = var.cdn_cached_path_patterns
  logs_kms_key_arn      = module.kms_edge_logs.key_arn
  log_retention_in_days = var.log_retention_in_days
  tags                  = local.tags
}

################################################################################
# Logs: OpenSearch in the VPC; Fluent Bit (stage two) ships the pods' JSON lines to it
################################################################################

module "logs" {
  source = "../logs"

  name                       = "${var.name}-logs"
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = slice(module.vpc.private_subnet_ids, 0, min(length(var.azs), 3))
  client_security_group_ids  = [module.eks.cluster_security_group_id]
  instance_type              = var.logs_instance_type
  instance_count             = var.logs_instance_count
  volume_size                = var.logs_volume_size
  kms_key_arn                = module.kms_data.key_arn
  logs_kms_key_arn           = module.kms_logs.key_arn
  log_retention_in_days      = var.log_retention_in_days
  admin_role_arn             = var.logs_admin_role_arn
  create_service_linked_role = var.logs_create_service_linked_role
  oidc_provider_arn          = module.eks.oidc_provider_arn
  oidc_issuer                = module.eks.oidc_issuer
  tags                       = local.tags
}

################################################################################
# IRSA: one role per function, only what it needs
################################################################################

data "aws_iam_policy_document" "function" {
  for_each = var.functions

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [for s in each.value.secrets : module.secrets.secret_arns[s]]
  }

  statement {
    sid       = "DecryptOwnSecrets"
    actions   = ["kms:Decrypt"]
    resources = [module.kms_data.key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = each.value.kafka_produce ? [1] : []
    content {
      sid       = "ConnectToMsk"
      actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
      resources = [module.msk.cluster_arn]
    }
  }

  # The relay creates missing topics at start (KAFKA_TOPIC_PARTITIONS) and writes the outbox to them.
  dynamic "statement" {
    for_each = each.value.kafka_produce ? [1] : []
    content {
      sid       = "ProduceEvents"
      actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData"]
      resources = local.topic_arns
    }
  }
}

module "function_irsa" {
  source   = "../irsa"
  for_each = var.functions

  name              = "${var.name}-fn-${each.key}"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = var.functions_namespace
  service_account   = each.key
  policy_json       = data.aws_iam_policy_document.function[each.key].json
  tags              = local.tags
}

data "aws_iam_policy_document" "kafka_source" {
  statement {
    sid       = "ConnectToMsk"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [module.msk.cluster_arn]
  }

  statement {
    sid       = "ReadEvents"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    resources = local.topic_arns
  }

  statement {
    sid       = "CommitOffsets"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = ["${module.msk.group_arn_prefix}/${var.kafka_consumer_group_prefix}*"]
  }
}

module "kafka_source_irsa" {
  source = "../irsa"

  name              = "${var.name}-knative-kafka-source"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "knative-eventing"
  service_account   = "knative-kafka-source-data-plane"
  policy_json       = data.aws_iam_policy_document.kafka_source.json
  tags              = local.tags
}

################################################################################
# Nodes for an opening: Karpenter's AWS side (controller role, node role, interruption queue). Its controller,
# NodePool and EC2NodeClass are installed by stage two, once this cluster exists.
################################################################################

module "karpenter" {
  #checkov:skip=CKV_TF_1:A registry module pinned with ~> as the project's roots pin every registry module; the registry serves versioned releases, not git refs.
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "~> 21.10"

  cluster_name = module.eks.cluster_name
  namespace    = "kube-system"

  node_iam_role_use_name_prefix = false
  node_iam_role_name            = "${var.name}-karpenter-node"
  node_iam_role_additional_policies = {
    AmazonSSMManagedInstanceCore = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }

  tags = local.tags
}

################################################################################
# Delivery: the role each GitHub environment deploys with, and the in-VPC runner it deploys from
################################################################################

module "deploy_role" {
  source = "../github-deploy-role"

  name                = "${var.name}-deploy"
  github_repository   = var.github_repository
  github_environments = var.github_environments
  cluster_name        = module.eks.cluster_name
  cluster_arn         = module.eks.cluster_arn
  namespace           = var.functions_namespace
  tags                = local.tags
}

module "deploy_runner" {
  source = "../deploy-runner"

  name                      = "${var.name}-deploy"
  github_repository         = var.github_repository
  codeconnections_arn       = var.codeconnections_arn
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  cluster_security_group_id = module.eks.cluster_security_group_id
  kms_key_arn               = module.kms_data.key_arn
  logs_kms_key_arn          = module.kms_logs.key_arn
  log_retention_in_days     = var.log_retention_in_days
  tags                      = local.tags
}
