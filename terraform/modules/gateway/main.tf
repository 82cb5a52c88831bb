# The Gateway API implementation behind the public host: Envoy Gateway. Its chart brings the Gateway API CRDs,
# the controller and nothing else; the class, its proxy settings and the ALB binding are ours.
locals {
  # The chart runs the proxies in the controller's namespace; the binding must sit beside their Service.
  namespace = "envoy-gateway-system"

  # Kept as data (not inline yamlencode) so tests/deploy can follow the links between them.
  envoy_proxy = {
    apiVersion = "gateway.envoyproxy.io/v1alpha1"
    kind       = "EnvoyProxy"
    metadata   = { name = "concert-public", namespace = local.namespace }
    spec = {
      provider = {
        type = "Kubernetes"
        kubernetes = {
          envoyDeployment = { replicas = var.proxy_replicas }
          # A fixed name instead of the generated one (a hash of the owning Gateway): the binding names it.
          # ClusterIP because the public entry is the Terraform-owned ALB with its WAF, not a second balancer.
          envoyService = { name = var.proxy_service_name, type = "ClusterIP" }
        }
      }
    }
  }

  gateway_class = {
    apiVersion = "gateway.networking.k8s.io/v1"
    kind       = "GatewayClass"
    metadata   = { name = var.gateway_class_name }
    spec = {
      controllerName = "gateway.envoyproxy.io/gatewayclass-controller"
      parametersRef = {
        group     = "gateway.envoyproxy.io"
        kind      = "EnvoyProxy"
        name      = "concert-public"
        namespace = local.namespace
      }
    }
  }

  target_group_binding = {
    apiVersion = "elbv2.k8s.aws/v1beta1"
    kind       = "TargetGroupBinding"
    metadata = {
      name      = "concert-public"
      namespace = local.namespace
      # Orders this after the controller that serves the CRD (and reconciles it).
      annotations = { "concert.dev/managed-by-release" = var.load_balancer_controller_release }
    }
    spec = {
      # The Service port is the Gateway listener's; the controller registers the pod port behind it.
      serviceRef     = { name = var.proxy_service_name, port = var.listener_port }
      targetGroupARN = var.target_group_arn
      targetType     = "ip"
    }
  }
}

resource "helm_release" "this" {
  name             = "envoy-gateway"
  repository       = "oci://docker.io/envoyproxy"
  chart            = "gateway-helm"
  version          = var.chart_version
  namespace        = local.namespace
  create_namespace = true
  wait             = true
}

resource "kubectl_manifest" "envoy_proxy" {
  yaml_body         = yamlencode(local.envoy_proxy)
  server_side_apply = true

  depends_on = [helm_release.this]
}

# The EnvoyProxy first: a class that names a missing one is not accepted, and its proxies would start with defaults.
resource "kubectl_manifest" "gateway_class" {
  yaml_body         = yamlencode(local.gateway_class)
  server_side_apply = true

  depends_on = [kubectl_manifest.envoy_proxy]
}

resource "kubernetes_namespace_v1" "gateway" {
  metadata {
    name   = "concert-gateway"
    labels = { "app.kubernetes.io/part-of" = "concert" }
  }
}

# The Gateway and ReferenceGrant are generated with the routes (knative/generate.ts); applying those files keeps
# one source for their names. The grant lives in Kourier's namespace, which exists once Serving is ready.
resource "kubectl_manifest" "gateway" {
  yaml_body         = file("${path.module}/../../../knative/gateway/gateway.yaml")
  server_side_apply = true

  depends_on = [kubectl_manifest.gateway_class, kubernetes_namespace_v1.gateway]
}

resource "kubectl_manifest" "reference_grant" {
  yaml_body         = file("${path.module}/../../../knative/gateway/reference-grant.yaml")
  server_side_apply = true

  depends_on = [helm_release.this]
}

# The proxy Service exists once the Gateway is programmed; the binding then follows its pods.
resource "kubectl_manifest" "target_group_binding" {
  yaml_body         = yamlencode(local.target_group_binding)
  server_side_apply = true

  depends_on = [kubectl_manifest.gateway]
}
