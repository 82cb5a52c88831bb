provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "concert"
      Environment = "dev"
      ManagedBy   = "terraform"
    }
  }
}

# CloudFront takes its certificate and web ACL only from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "concert"
      Environment = "dev"
      ManagedBy   = "terraform"
    }
  }
}

# dev: two zones, one NAT gateway, Spot nodes, a single-AZ primary (replicas still prove the read path), the
# smallest Redis pair that can fail over, two brokers. Deletion protection off so the stack can be torn down.
module "platform" {
  source = "../../modules/platform"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name        = "concert-dev"
  environment = "dev"

  vpc_cidr           = "10.10.0.0/16"
  azs                = var.azs
  single_nat_gateway = true

  eks_endpoint_public_access = var.eks_endpoint_public_access
  eks_public_access_cidrs    = var.eks_public_access_cidrs
  eks_admin_principal_arns   = var.eks_admin_principal_arns
  node_instance_types        = ["m7i.large", "m6i.large"]
  node_capacity_type         = "SPOT"
  node_min_size              = 2
  node_desired_size          = 2
  node_max_size              = 4

  knative_domain  = var.knative_domain
  certificate_arn = var.certificate_arn

  api_host            = var.api_host
  cdn_certificate_arn = var.cdn_certificate_arn
  logs_admin_role_arn = var.logs_admin_role_arn
  logs_instance_type  = "m7g.medium.search"
  logs_instance_count = 2

  waf_rate_limit_per_minute = 600
  deletion_protection       = false

  db_instance_class          = "db.t4g.medium"
  db_replica_instance_class  = null
  db_replica_count           = 2
  db_multi_az                = false
  db_allocated_storage       = 20
  db_max_allocated_storage   = 100
  db_backup_retention_period = 1

  redis_node_type          = "cache.t4g.small"
  redis_num_cache_clusters = 2
  redis_multi_az           = true

  msk_broker_instance_type = "kafka.t3.small"
  msk_broker_count         = 2
  msk_broker_volume_size   = 20

  supplied_secret_values = var.supplied_secret_values
  notify_webhook_url     = var.notify_webhook_url

  # Each environment has its own cluster; the overlay knative/overlays/dev deploys into this namespace.
  functions_namespace = "concert-dev"
  github_repository   = var.github_repository
  github_environments = ["dev"]
  codeconnections_arn = var.codeconnections_arn
}
