data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # The account's one GitHub provider is created by envs/global; roles only refer to it.
  github_provider_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

# Only jobs that run in one of these GitHub environments (with their reviewers and branch rules) get the role.
data "aws_iam_policy_document" "assume" {
  #checkov:skip=CKV_AWS_358:The subject is pinned to repo:<owner>/<name>:environment:<env> with StringEquals; the repository comes from a variable the roots require, which checkov cannot resolve.
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

# `aws eks update-kubeconfig` reads the cluster; everything else goes through the access entry below.
data "aws_iam_policy_document" "describe_cluster" {
  statement {
    actions   = ["eks:DescribeCluster"]
    resources = [var.cluster_arn]
  }
}

resource "aws_iam_role_policy" "describe_cluster" {
  name   = "describe-cluster"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.describe_cluster.json
}

resource "aws_eks_access_entry" "this" {
  cluster_name  = var.cluster_name
  principal_arn = aws_iam_role.this.arn
  type          = "STANDARD"
  tags          = var.tags
}

# Edit rights in the functions' namespace only: Knative aggregates its Services and sources into `edit`.
resource "aws_eks_access_policy_association" "this" {
  cluster_name  = var.cluster_name
  principal_arn = aws_iam_role.this.arn
  policy_arn    = "arn:${data.aws_partition.current.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"

  access_scope {
    type       = "namespace"
    namespaces = [var.namespace]
  }

  depends_on = [aws_eks_access_entry.this]
}
