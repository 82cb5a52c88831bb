variable "chart_version" {
  description = "Version of the Envoy Gateway chart (`oci://docker.io/envoyproxy/gateway-helm`); it also installs the Gateway API CRDs"
  type        = string
  default     = "v1.9.1"
}

variable "gateway_class_name" {
  description = "GatewayClass the generated Gateway `concert-public` names (`gatewayClassName` in knative/gateway/gateway.yaml)"
  type        = string
  default     = "eg"
}

variable "proxy_service_name" {
  description = "Fixed name of the Envoy proxy Service of the Gateway, which the TargetGroupBinding points at"
  type        = string
  default     = "concert-public-envoy"
}

variable "proxy_replicas" {
  description = "Envoy proxy pods serving the public Gateway"
  type        = number
  default     = 2
}

variable "listener_port" {
  description = "Port of the Gateway's HTTP listener, which is also its proxy Service's port"
  type        = number
  default     = 80
}

variable "target_group_arn" {
  description = "ALB target group the Envoy proxy pods are bound to (TargetGroupBinding)"
  type        = string
  default     = null
}

variable "load_balancer_controller_release" {
  description = "Helm release of the AWS Load Balancer Controller (the TargetGroupBinding CRD must exist first)"
  type        = string
  default     = null
}
