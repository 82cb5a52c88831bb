# Once per AWS account, before any environment: what every environment shares. The images are built once and
# promoted by digest from dev to staging to prod, so their repositories (`concert/<function>`) are not per
# environment; the GitHub OIDC provider can exist only once per account.
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "concert"
      ManagedBy = "terraform"
    }
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

module "kms_images" {
  source = "../../modules/kms"

  name        = "concert-images"
  description = "Container images of concert"
}

module "ecr" {
  source = "../../modules/ecr"

  name_prefix  = "concert"
  repositories = var.functions
  kms_key_arn  = module.kms_images.key_arn
}

# Only the build job of the deploy workflow on main pushes images: it runs in no GitHub environment, so the
# subject is the branch.
data "aws_iam_policy_document" "ecr_push_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "ecr_push" {
  name                 = "concert-ecr-push"
  assume_role_policy   = data.aws_iam_policy_document.ecr_push_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "ecr_push" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = values(module.ecr.repository_arns)
  }
}

resource "aws_iam_role_policy" "ecr_push" {
  name   = "push-images"
  role   = aws_iam_role.ecr_push.id
  policy = data.aws_iam_policy_document.ecr_push.json
}
