provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "concert"
      Environment = "prod"
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
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}

# prod: sized from the ADR (c5.large x20 at peak -> c7i.xlarge up to 20 nodes, db.r6g.xlarge -> db.r7g.xlarge
# primary and replicas, cache.r6g.large -> cache.r7g.large x3), NAT per zone, longer backups.
module "platform" {
  source = "../../modules/platform"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name        = "concert-prod"
  environment = "prod"

  vpc_cidr           = "10.30.0.0/16"
  azs                = var.azs
  single_nat_gateway = false

  eks_endpoint_public_access = var.eks_endpoint_public_access
  eks_public_access_cidrs    = var.eks_public_access_cidrs
  eks_admin_principal_arns   = var.eks_admin_principal_arns
  node_instance_types        = ["c7i.xlarge", "c6i.xlarge"]
  node_capacity_type         = "ON_DEMAND"
  node_min_size              = 3
  node_desired_size          = 5
  node_max_size              = 20

  knative_domain  = var.knative_domain
  certificate_arn = var.certificate_arn

  api_host            = var.api_host
  cdn_certificate_arn = var.cdn_certificate_arn
  logs_admin_role_arn = var.logs_admin_role_arn

  waf_rate_limit_per_minute = 600
  deletion_protection       = true

  db_instance_class          = "db.r7g.xlarge"
  db_replica_instance_class  = "db.r7g.xlarge"
  db_replica_count           = 2
  db_multi_az                = true
  db_allocated_storage       = 200
  db_max_allocated_storage   = 1000
  db_backup_retention_period = 14

  redis_node_type          = "cache.r7g.large"
  redis_num_cache_clusters = 3
  redis_multi_az           = true

  msk_broker_instance_type = "kafka.m7g.large"
  msk_broker_count         = 3
  msk_broker_volume_size   = 500

  supplied_secret_values = var.supplied_secret_values
  notify_webhook_url     = var.notify_webhook_url

  # Each environment has its own cluster; the overlay knative/overlays/prod deploys into this namespace.
  functions_namespace = "concert"
  github_repository   = var.github_repository
  github_environments = ["prod-canary", "prod"]
  codeconnections_arn = var.codeconnections_arn
}
