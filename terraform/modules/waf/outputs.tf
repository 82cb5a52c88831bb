output "web_acl_arn" {
  description = "ARN of the web ACL, to associate with the ALB"
  value       = try(aws_wafv2_web_acl.this.arn, null)
}

output "web_acl_name" {
  description = "Name of the web ACL"
  value       = try(aws_wafv2_web_acl.this.name, null)
}
