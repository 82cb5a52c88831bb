terraform {
  required_version = "~> 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` supplies bucket and region (not committed).
  backend "s3" {
    key          = "concert/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
