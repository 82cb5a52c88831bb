terraform {
  required_version = "~> 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.1"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
    kubectl = {
      source  = "alekc/kubectl"
      version = "~> 2.1"
    }
  }

  # Partial configuration, as stage one: `terraform init -backend-config=backend.hcl` (same bucket).
  backend "s3" {
    key          = "concert/dev-cluster/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
