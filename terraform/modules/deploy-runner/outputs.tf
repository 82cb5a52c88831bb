output "project_name" {
  description = "CodeBuild project the deploy jobs run on (`runs-on: codebuild-<project>-<run id>-<attempt>`)"
  value       = try(aws_codebuild_project.this.name, null)
}

output "security_group_id" {
  description = "Security group of the runner"
  value       = try(aws_security_group.this.id, null)
}
