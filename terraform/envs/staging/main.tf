provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "concert"
      Environment = "staging"
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
      Environment = "staging"
      ManagedBy   = "terraform"
    }
  }
}

# staging: production topology (three zones, Multi-AZ primary, two replicas, three Redis nodes, three brokers)
# on smaller or fewer instances, so failover drills behave as in prod.
module "platform" {
  source = "../../modules/platform"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name        = "concert-staging"
  environment = "staging"

  vpc_cidr           = "10.20.0.0/16"
  azs                = var.azs
  single_nat_gateway = true

  eks_endpoint_public_access = var.eks_endpoint_public_access
  eks_public_access_cidrs    = var.eks_public_access_cidrs
  eks_admin_principal_arns   = var.eks_admin_principal_arns
  node_instance_types        = ["m7i.large"]
  node_capacity_type         = "ON_DEMAND"
  node_min_size              = 3
  node_desired_size          = 3
  node_max_size              = 8

  knative_domain  = var.knative_domain
  certificate_arn = var.certificate_arn

  api_host            = var.api_host
  cdn_certificate_arn = var.cdn_certificate_arn
  logs_admin_role_arn = var.logs_admin_role_arn

  waf_rate_limit_per_minute = 600
  deletion_protection       = true

  db_instance_class          = "db.r7g.large"
  db_replica_instance_class  = null
  db_replica_count           = 2
  db_multi_az                = true
  db_allocated_storage       = 50
  db_max_allocated_storage   = 200
  db_backup_retention_period = 7

  redis_node_type          = "cache.r7g.large"
  redis_num_cache_clusters = 3
  redis_multi_az           = true

  msk_broker_instance_type = "kafka.m7g.large"
  msk_broker_count         = 3
  msk_broker_volume_size   = 100

  supplied_secret_values = var.supplied_secret_values
  notify_webhook_url     = var.notify_webhook_url

  # Each environment has its own cluster; the overlay knative/overlays/staging deploys into this namespace.
  functions_namespace = "concert-staging"
  github_repository   = var.github_repository
  github_environments = ["staging"]
  codeconnections_arn = var.codeconnections_arn
}
