data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"

  # The account keeps control of the key through IAM (the default key policy); services that encrypt on
  # their own behalf (CloudWatch Logs) are named explicitly, limited by the caller's condition to this account's data.
  statements = concat(
    [{
      Sid       = "AccountAdministersThroughIam"
      Effect    = "Allow"
      Principal = { AWS = local.account_root }
      Action    = "kms:*"
      Resource  = "*"
    }],
    length(var.service_principals) == 0 ? [] : [{
      Sid       = "ServicesEncryptForThisAccount"
      Effect    = "Allow"
      Principal = { Service = var.service_principals }
      Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      Resource  = "*"
      Condition = var.service_principal_condition
    }],
    length(var.service_role_arns) == 0 ? [] : [{
      Sid       = "ServiceRolesUseKey"
      Effect    = "Allow"
      Principal = { AWS = var.service_role_arns }
      Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
      Resource  = "*"
    }],
    length(var.service_role_arns) == 0 ? [] : [{
      Sid       = "ServiceRolesGrantToAwsServices"
      Effect    = "Allow"
      Principal = { AWS = var.service_role_arns }
      Action    = "kms:CreateGrant"
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    }],
  )
}

resource "aws_kms_key" "this" {
  description             = var.description
  deletion_window_in_days = var.deletion_window_in_days
  enable_key_rotation     = true
  policy                  = jsonencode({ Version = "2012-10-17", Statement = local.statements })
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
