output "distribution_id" {
  description = "ID of the distribution (for invalidations)"
  value       = try(aws_cloudfront_distribution.this.id, null)
}

output "domain_name" {
  description = "Domain of the distribution: the target of the API host's alias record"
  value       = try(aws_cloudfront_distribution.this.domain_name, null)
}

output "hosted_zone_id" {
  description = "Hosted zone of the distribution, for an alias record"
  value       = try(aws_cloudfront_distribution.this.hosted_zone_id, null)
}

output "arn" {
  description = "ARN of the distribution"
  value       = try(aws_cloudfront_distribution.this.arn, null)
}
