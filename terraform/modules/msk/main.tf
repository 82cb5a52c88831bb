locals {
  # Durable by default: a record is acknowledged by two brokers before the producer (outbox relay) marks
  # its outbox row sent. A two-broker dev cluster tolerates no broker loss anyway.
  replication_factor  = min(3, var.broker_count)
  min_insync_replicas = max(1, local.replication_factor - 1)
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-msk-"
  description = "MSK brokers of ${var.name}: IAM/TLS clients and Prometheus scrapes from the cluster"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "iam_tls" {
  for_each = toset(var.client_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Kafka SASL/IAM over TLS from the EKS private subnet ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 9098
  to_port           = 9098
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "exporters" {
  for_each = toset(var.client_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "JMX and node exporters (Prometheus) from the EKS private subnet ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 11001
  to_port           = 11002
  cidr_ipv4         = each.value
}

resource "aws_msk_configuration" "this" {
  name           = var.name
  kafka_versions = [var.kafka_version]
  description    = "Broker settings of ${var.name}"

  # Topics are created by the outbox relay with explicit partitions (KAFKA_TOPIC_PARTITIONS); a typo in a
  # topic name must fail instead of creating a stray topic.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${local.replication_factor}
    min.insync.replicas=${local.min_insync_replicas}
    num.partitions=6
    unclean.leader.election.enable=false
    log.retention.hours=168
  PROPERTIES
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/msk/${var.name}/broker"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  enhanced_monitoring    = "PER_TOPIC_PER_BROKER"

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_size
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  # IAM only: each service account's role says which topics it may write or read.
  client_authentication {
    unauthenticated = false

    sasl {
      iam   = true
      scram = false
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this.name
      }
    }
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }

  tags = var.tags
}
