output "vpc_id" {
  description = "ID of the VPC"
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC"
  value       = try(aws_vpc.this.cidr_block, null)
}

output "azs" {
  description = "Availability zones the subnets are spread over"
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT gateways)"
  value       = try(aws_subnet.public[*].id, [])
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes and pods)"
  value       = try(aws_subnet.private[*].id, [])
}

output "private_subnet_cidrs" {
  description = "CIDRs of the private subnets, the sources allowed into the data tier"
  value       = try(aws_subnet.private[*].cidr_block, [])
}

output "data_subnet_ids" {
  description = "Data subnets without a route out of the VPC (RDS, ElastiCache, MSK)"
  value       = try(aws_subnet.data[*].id, [])
}

output "nat_public_ips" {
  description = "Egress addresses of the NAT gateways (for allow-lists of outside services)"
  value       = try(aws_eip.nat[*].public_ip, [])
}
