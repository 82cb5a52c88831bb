data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
}

# GitHub-hosted runners cannot reach the private Kubernetes API, so the deploy jobs run on CodeBuild inside
# the VPC: CodeBuild registers an ephemeral runner for each queued job whose `runs-on` names this project.
resource "aws_security_group" "this" {
  name_prefix = "${var.name}-runner-"
  description = "Deploy runner of ${var.name}: HTTPS out only (GitHub, AWS APIs, the Kubernetes API)"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to GitHub, AWS APIs and the Kubernetes API"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "kubernetes_api" {
  security_group_id            = var.cluster_security_group_id
  description                  = "Kubernetes API from the deploy runner"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/codebuild/${var.name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = "${var.name}-runner-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# The runner itself may only log and attach to the VPC; the jobs assume the environment's deploy role by OIDC.
data "aws_iam_policy_document" "runner" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "DescribeNetwork"
    actions   = ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]
    resources = ["*"]
  }

  statement {
    sid     = "AttachToVpc"
    actions = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
    resources = concat(
      ["arn:${local.partition}:ec2:${local.region}:${local.account}:network-interface/*", "arn:${local.partition}:ec2:${local.region}:${local.account}:security-group/${aws_security_group.this.id}"],
      [for s in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account}:subnet/${s}"],
    )
  }

  statement {
    sid       = "NetworkInterfacePermission"
    actions   = ["ec2:CreateNetworkInterfacePermission"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account}:network-interface/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:AuthorizedService"
      values   = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "ec2:Subnet"
      values   = [for s in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account}:subnet/${s}"]
    }
  }

  statement {
    sid       = "EncryptBuildData"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "UseGitHubConnection"
    actions   = ["codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codeconnections:GetConnection"]
    resources = [var.codeconnections_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "runner"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runner.json
}

resource "aws_codebuild_project" "this" {
  name           = var.name
  description    = "GitHub Actions runner in the VPC for the deploy jobs of ${var.github_repository}"
  service_role   = aws_iam_role.this.arn
  build_timeout  = 60
  encryption_key = var.kms_key_arn
  tags           = var.tags

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    compute_type    = "BUILD_GENERAL1_SMALL"
    image           = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    type            = "LINUX_CONTAINER"
    privileged_mode = false
  }

  source {
    type     = "GITHUB"
    location = "https://github.com/${var.github_repository}.git"

    auth {
      type     = "CODECONNECTIONS"
      resource = var.codeconnections_arn
    }
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.this.name
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

# A queued workflow job is what starts a runner, never a push.
resource "aws_codebuild_webhook" "this" {
  project_name = aws_codebuild_project.this.name
  build_type   = "BUILD"

  filter_group {
    filter {
      type    = "EVENT"
      pattern = "WORKFLOW_JOB_QUEUED"
    }
  }
}
