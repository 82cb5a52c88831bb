# Stage two: everything that talks to the Kubernetes API. It runs only after stage one (envs/<env>) has
# created the cluster, so the Kubernetes and Helm providers are configured from a cluster that already exists.

################################################################################
# Controllers: load balancer binding and External Secrets first, then Knative, then the Gateway (its
# TargetGroupBinding needs the controller's CRD, its ReferenceGrant Kourier's namespace)
################################################################################

module "eks_addons" {
  source = "../eks-addons"

  cluster_name      = var.cluster_name
  vpc_id            = var.vpc_id
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  target_group_arns = [var.target_group_arn]
  tags              = var.tags
}

module "knative" {
  source = "../knative"

  operator_chart_version       = var.knative_operator_chart_version
  domain                       = var.knative_domain
  high_availability_replicas   = var.knative_ha_replicas
  kafka_source_role_arn        = var.kafka_source_role_arn
  kafka_source_service_account = "knative-kafka-source-data-plane"

  depends_on = [module.eks_addons]
}

# The public host: Envoy Gateway serves the generated Gateway and HTTPRoutes and forwards to Kourier, whose
# namespace (for the ReferenceGrant) exists only after Knative; the ALB's targets are its proxy pods.
module "gateway" {
  source = "../gateway"

  chart_version                    = var.envoy_gateway_chart_version
  proxy_replicas                   = var.knative_ha_replicas
  target_group_arn                 = var.target_group_arn
  load_balancer_controller_release = module.eks_addons.load_balancer_controller_release

  depends_on = [module.eks_addons, module.knative]
}

################################################################################
# Where the functions run: their namespace and one annotated service account each
################################################################################

resource "kubernetes_namespace_v1" "functions" {
  metadata {
    name   = var.functions_namespace
    labels = { "app.kubernetes.io/part-of" = "concert" }
  }
}

resource "kubernetes_service_account_v1" "function" {
  for_each = var.function_role_arns

  metadata {
    name      = each.key
    namespace = kubernetes_namespace_v1.functions.metadata[0].name
    labels    = { "app.kubernetes.io/part-of" = "concert", "app.kubernetes.io/name" = each.key }
    annotations = {
      "eks.amazonaws.com/role-arn" = each.value
    }
  }

  automount_service_account_token = true
}

################################################################################
# Karpenter: the controller (its AWS side is stage one's `module.karpenter`), one node class and one pool
################################################################################

locals {
  # Kept as data so tests/deploy validates them against Karpenter's published schema.
  node_class = {
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = { name = "functions" }
    spec = {
      role                       = var.karpenter_node_role_name
      amiSelectorTerms           = [{ alias = var.karpenter_ami_alias }]
      subnetSelectorTerms        = [for id in var.node_subnet_ids : { id = id }]
      securityGroupSelectorTerms = [{ id = var.node_security_group_id }]
      # Same rule as the managed nodes: pods cannot reach the node's credentials.
      metadataOptions = {
        httpEndpoint            = "enabled"
        httpTokens              = "required"
        httpPutResponseHopLimit = 1
      }
      blockDeviceMappings = [{
        deviceName = "/dev/xvda"
        ebs        = { volumeSize = "40Gi", volumeType = "gp3", encrypted = true, deleteOnTermination = true }
      }]
      tags = var.tags
    }
  }

  node_pool = {
    apiVersion = "karpenter.sh/v1"
    kind       = "NodePool"
    metadata   = { name = "functions" }
    spec = {
      template = {
        spec = {
          nodeClassRef = { group = "karpenter.k8s.aws", kind = "EC2NodeClass", name = "functions" }
          requirements = [
            { key = "karpenter.sh/capacity-type", operator = "In", values = var.karpenter_capacity_types },
            { key = "kubernetes.io/arch", operator = "In", values = ["amd64"] },
            { key = "karpenter.k8s.aws/instance-category", operator = "In", values = ["c", "m"] },
            { key = "karpenter.k8s.aws/instance-generation", operator = "Gt", values = ["5"] },
            { key = "karpenter.k8s.aws/instance-size", operator = "In", values = ["large", "xlarge", "2xlarge", "4xlarge"] },
          ]
          expireAfter = "720h"
        }
      }
      # The ceiling an opening may reach; the managed node group keeps the controllers.
      limits = { cpu = var.karpenter_cpu_limit, memory = var.karpenter_memory_limit }
      disruption = {
        consolidationPolicy = "WhenEmptyOrUnderutilized"
        # Long enough that nodes bought for the first wave of an opening survive its lulls.
        consolidateAfter = var.karpenter_consolidate_after
        budgets          = [{ nodes = "10%" }]
      }
    }
  }
}

resource "helm_release" "this" {
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = var.karpenter_chart_version
  namespace  = "kube-system"
  wait       = true

  values = [yamlencode({
    settings = {
      clusterName       = var.cluster_name
      interruptionQueue = var.karpenter_queue_name
    }
    # The pod identity association of stage one names this service account.
    serviceAccount = { name = "karpenter" }
    replicas       = 2
    controller = {
      resources = {
        requests = { cpu = "500m", memory = "512Mi" }
        limits   = { cpu = "1", memory = "1Gi" }
      }
    }
  })]
}

resource "kubectl_manifest" "node_class" {
  yaml_body         = yamlencode(local.node_class)
  server_side_apply = true

  depends_on = [helm_release.this]
}

resource "kubectl_manifest" "node_pool" {
  yaml_body         = yamlencode(local.node_pool)
  server_side_apply = true

  depends_on = [kubectl_manifest.node_class]
}

################################################################################
# Logs: Fluent Bit on every node ships the pods' lines to stage one's OpenSearch domain
################################################################################

locals {
  fluent_bit_namespace       = split("/", var.fluent_bit_service_account)[0]
  fluent_bit_service_account = split("/", var.fluent_bit_service_account)[1]

  # Kept as data so tests/deploy can follow the output host and the service account back to stage one.
  fluent_bit_values = {
    serviceAccount = {
      create      = true
      name        = local.fluent_bit_service_account
      annotations = { "eks.amazonaws.com/role-arn" = var.fluent_bit_role_arn }
    }
    config = {
      inputs = <<-EOT
        [INPUT]
            Name              tail
            Tag               kube.*
            Path              /var/log/containers/*.log
            multiline.parser  cri, docker
            DB                /var/log/flb_kube.db
            Mem_Buf_Limit     50MB
            Skip_Long_Lines   On
      EOT
      # The functions log one pino JSON object per line: Merge_Log lifts its fields (level, reqId, userId,
      # CloudEvent id and type) to the top of the document instead of leaving one string to search.
      filters = <<-EOT
        [FILTER]
            Name                kubernetes
            Match               kube.*
            Merge_Log           On
            Keep_Log            Off
            K8S-Logging.Parser  On
            K8S-Logging.Exclude On
      EOT
      outputs = <<-EOT
        [OUTPUT]
            Name                opensearch
            Match               kube.*
            Host                ${var.logs_endpoint}
            Port                443
            tls                 On
            tls.verify          On
            AWS_Auth            On
            AWS_Region          ${var.region}
            Logstash_Format     On
            Logstash_Prefix     concert
            Replace_Dots        On
            Suppress_Type_Name  On
            Trace_Error         On
            Retry_Limit         False
      EOT
    }
  }
}

resource "helm_release" "fluent_bit" {
  name             = "fluent-bit"
  repository       = "https://fluent.github.io/helm-charts"
  chart            = "fluent-bit"
  version          = var.fluent_bit_chart_version
  namespace        = local.fluent_bit_namespace
  create_namespace = true

  values = [yamlencode(local.fluent_bit_values)]
}
