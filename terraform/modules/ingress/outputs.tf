output "dns_name" {
  description = "DNS name of the ALB (target of the API host name's alias record)"
  value       = try(aws_lb.this.dns_name, null)
}

output "zone_id" {
  description = "Hosted zone of the ALB, for an alias record"
  value       = try(aws_lb.this.zone_id, null)
}

output "arn" {
  description = "ARN of the ALB"
  value       = try(aws_lb.this.arn, null)
}

output "target_group_arn" {
  description = "Target group the Knative ingress gateway pods are bound to"
  value       = try(aws_lb_target_group.this.arn, null)
}

output "security_group_id" {
  description = "Security group of the ALB"
  value       = try(aws_security_group.this.id, null)
}

output "access_log_bucket" {
  description = "Bucket of the ALB access logs"
  value       = try(aws_s3_bucket.logs.id, null)
}
