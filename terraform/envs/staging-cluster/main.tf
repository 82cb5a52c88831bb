# Stage two of staging: the cluster's add-ons. Apply after envs/staging (stage one), from a machine that reaches the
# private Kubernetes API (the deploy runner's subnets, an SSM tunnel or a VPN): see docs/deploy.md.
data "terraform_remote_state" "infra" {
  backend = "s3"
  config = {
    bucket = var.state_bucket
    key    = "concert/staging/terraform.tfstate"
    region = var.region
  }
}

locals {
  infra = data.terraform_remote_state.infra.outputs
}

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

# The cluster already exists (stage one's state says where), so these providers never wait on a resource of
# this apply. They authenticate with short-lived tokens from the caller's AWS identity.
provider "kubernetes" {
  host                   = local.infra.cluster_endpoint
  cluster_ca_certificate = base64decode(local.infra.cluster_certificate_authority_data)

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", local.infra.cluster_name, "--region", var.region]
  }
}

provider "helm" {
  kubernetes = {
    host                   = local.infra.cluster_endpoint
    cluster_ca_certificate = base64decode(local.infra.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", local.infra.cluster_name, "--region", var.region]
    }
  }
}

provider "kubectl" {
  host                   = local.infra.cluster_endpoint
  cluster_ca_certificate = base64decode(local.infra.cluster_certificate_authority_data)
  load_config_file       = false

  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", local.infra.cluster_name, "--region", var.region]
  }
}

module "cluster_addons" {
  source = "../../modules/cluster-addons"

  cluster_name          = local.infra.cluster_name
  vpc_id                = local.infra.vpc_id
  oidc_provider_arn     = local.infra.oidc_provider_arn
  oidc_issuer           = local.infra.oidc_issuer
  target_group_arn      = local.infra.target_group_arn
  kafka_source_role_arn = local.infra.kafka_source_role_arn
  knative_domain        = local.infra.knative_domain
  knative_ha_replicas   = 2
  functions_namespace   = local.infra.functions_namespace
  function_role_arns    = local.infra.function_role_arns

  region                     = var.region
  logs_endpoint              = local.infra.logs_endpoint
  fluent_bit_role_arn        = local.infra.fluent_bit_role_arn
  fluent_bit_service_account = local.infra.fluent_bit_service_account

  karpenter_queue_name     = local.infra.karpenter_queue_name
  karpenter_node_role_name = local.infra.karpenter_node_role_name
  node_subnet_ids          = local.infra.private_subnet_ids
  node_security_group_id   = local.infra.node_security_group_id
  karpenter_capacity_types = ["on-demand"]
  karpenter_cpu_limit      = "48"
  karpenter_memory_limit   = "96Gi"
}
