data "aws_region" "current" {}

locals {
  lb_controller_namespace       = "kube-system"
  lb_controller_service_account = "aws-load-balancer-controller"
}

################################################################################
# AWS Load Balancer Controller, limited to binding pod IPs into the target group Terraform owns.
# It cannot create or delete load balancers: the ALB, its listener and its WAF association stay in Terraform.
################################################################################

data "aws_iam_policy_document" "lb_controller" {
  statement {
    sid = "Discover"
    actions = [
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "BindTargets"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = var.target_group_arns
  }
}

module "lb_controller_irsa" {
  source = "../irsa"

  name              = "${var.cluster_name}-aws-load-balancer-controller"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  namespace         = local.lb_controller_namespace
  service_account   = local.lb_controller_service_account
  policy_json       = data.aws_iam_policy_document.lb_controller.json
  tags              = var.tags
}

resource "helm_release" "this" {
  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.load_balancer_controller_chart_version
  namespace  = local.lb_controller_namespace
  wait       = true

  values = [yamlencode({
    clusterName  = var.cluster_name
    region       = data.aws_region.current.region
    vpcId        = var.vpc_id
    replicaCount = 2
    serviceAccount = {
      create      = true
      name        = local.lb_controller_service_account
      annotations = { "eks.amazonaws.com/role-arn" = module.lb_controller_irsa.role_arn }
    }
    # Services of type LoadBalancer keep their default behaviour; this controller only serves TargetGroupBindings.
    enableServiceMutatorWebhook = false
    createIngressClassResource  = false
  })]
}

################################################################################
# External Secrets Operator: copies each function's Secrets Manager entries into a Kubernetes Secret,
# assuming that function's own IRSA role (SecretStore with a serviceAccountRef), so it holds no AWS rights itself.
################################################################################

resource "helm_release" "external_secrets" {
  name             = "external-secrets"
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = var.external_secrets_chart_version
  namespace        = "external-secrets"
  create_namespace = true
  wait             = true

  values = [yamlencode({
    installCRDs = true
  })]
}
