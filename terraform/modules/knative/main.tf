# The Operator owns the Knative manifests (Serving, Eventing, Kourier, the Kafka source) and upgrades them as
# one version; Terraform owns only the two custom resources that configure them.
resource "helm_release" "this" {
  name             = "knative-operator"
  repository       = "https://knative.github.io/operator"
  chart            = "knative-operator"
  version          = var.operator_chart_version
  namespace        = "knative-operator"
  create_namespace = true
  wait             = true
}

resource "kubernetes_namespace_v1" "serving" {
  metadata {
    name = "knative-serving"
  }
}

resource "kubernetes_namespace_v1" "eventing" {
  metadata {
    name = "knative-eventing"
  }
}

resource "kubectl_manifest" "serving" {
  yaml_body = yamlencode({
    apiVersion = "operator.knative.dev/v1beta1"
    kind       = "KnativeServing"
    metadata   = { name = "knative-serving", namespace = kubernetes_namespace_v1.serving.metadata[0].name }
    spec = {
      "high-availability" = { replicas = var.high_availability_replicas }
      ingress = {
        # ClusterIP: only the public Gateway (modules/gateway) reaches it, through `kourier-internal`.
        kourier = { enabled = true, "service-type" = "ClusterIP" }
      }
      config = {
        network = {
          "ingress-class" = "kourier.ingress.networking.knative.dev"
          # TLS ends at the ALB; the URLs Knative reports must still say https.
          "default-external-scheme" = "https"
        }
        domain = { (var.domain) = "" }
        autoscaler = {
          "enable-scale-to-zero"       = "true"
          "scale-to-zero-grace-period" = "30s"
        }
        features = {
          "kubernetes.podspec-securitycontext" = "enabled"
        }
      }
    }
  })

  server_side_apply = true
  wait              = true

  # Kourier's namespace and Service (the Gateway's backend) exist only once the operator reports Serving ready.
  wait_for {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  depends_on = [helm_release.this]
}

resource "kubectl_manifest" "eventing" {
  yaml_body = yamlencode({
    apiVersion = "operator.knative.dev/v1beta1"
    kind       = "KnativeEventing"
    metadata   = { name = "knative-eventing", namespace = kubernetes_namespace_v1.eventing.metadata[0].name }
    spec = {
      "high-availability" = { replicas = var.high_availability_replicas }
      # KafkaSource delivers the trigger topics to release-seat and notify as CloudEvents over HTTP. The
      # operator's CRD requires every source's switch once `source` is set, so the others say false.
      source = {
        kafka    = { enabled = true }
        ceph     = { enabled = false }
        github   = { enabled = false }
        gitlab   = { enabled = false }
        rabbitmq = { enabled = false }
        redis    = { enabled = false }
      }
    }
  })

  server_side_apply = true
  wait              = true

  depends_on = [helm_release.this, kubernetes_service_account_v1.kafka_source]
}

# Lets the Kafka source data plane authenticate to MSK with IAM (SASL OAUTHBEARER signed by its IRSA role).
# Created, annotated, before the KnativeEventing resource: the operator then finds it in place, and the data
# plane pods start with the role's token instead of racing an annotation added after them.
resource "kubernetes_service_account_v1" "kafka_source" {
  metadata {
    name      = var.kafka_source_service_account
    namespace = kubernetes_namespace_v1.eventing.metadata[0].name
    annotations = {
      "eks.amazonaws.com/role-arn" = var.kafka_source_role_arn
    }
  }
}
