# The edge in front of the public ALB. Only answers the API itself marks `Cache-Control: public` are kept: the
# API reference's static assets and the public catalogue (`/v1/concerts*`). Everything else carries a user's
# bearer token, so it passes through with every viewer header, cookie and query string, and is never stored.

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer" {
  name = "Managed-AllViewer"
}

data "aws_cloudfront_response_headers_policy" "security" {
  name = "Managed-SecurityHeadersPolicy"
}

# A zero default TTL: an answer without Cache-Control is not stored, so the origin alone decides what is kept.
# The query string is in the key (and so reaches the origin): the catalogue's pages and filters are in it. The
# Origin header is too, because the API answers CORS and non-CORS requests differently (`Vary: Origin`), which
# CloudFront honours only through the key. Authorization is neither keyed nor forwarded: a public answer is
# the same for everyone. Conditional requests need nothing here: CloudFront answers a viewer's If-None-Match
# from the stored ETag and revalidates with the origin by its own If-None-Match once max-age has passed.
resource "aws_cloudfront_cache_policy" "origin_controlled" {
  name        = "${var.name}-origin-cache-control"
  comment     = "Caches only what the origin's Cache-Control allows; keyed on path, query string and Origin"
  min_ttl     = 0
  default_ttl = 0
  max_ttl     = var.max_ttl

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    cookies_config {
      cookie_behavior = "none"
    }

    headers_config {
      header_behavior = "whitelist"
      headers {
        items = ["Origin"]
      }
    }

    query_strings_config {
      query_string_behavior = "all"
    }
  }
}

# The ALB's certificate names the API host, not the ALB's own DNS name: the viewer's Host goes to the origin
# so CloudFront validates the origin certificate against it.
resource "aws_cloudfront_origin_request_policy" "host_only" {
  name    = "${var.name}-host-only"
  comment = "Forwards only the viewer's Host to the origin"

  cookies_config {
    cookie_behavior = "none"
  }

  headers_config {
    header_behavior = "whitelist"
    headers {
      items = ["Host"]
    }
  }

  query_strings_config {
    query_string_behavior = "none"
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_86:Access logs are delivered to CloudWatch Logs by the log delivery resources below (CloudFront's logging to CloudWatch); checkov only recognises the legacy S3 logging_config block.
  #checkov:skip=CKV_AWS_310:One origin by design: the single-region ALB; a failover origin would need a second region's stack, which the design does not run.
  #checkov:skip=CKV_AWS_305:An API, not a website: the root path has no document to serve.
  #checkov:skip=CKV_AWS_374:Tickets are sold to fans anywhere; no country is refused at the edge.
  #checkov:skip=CKV2_AWS_47:The web ACL comes from modules/waf (AWSManagedRulesKnownBadInputsRuleSet included, which CKV_AWS_192 checks there); the graph check does not follow the ARN across modules.
  enabled         = true
  is_ipv6_enabled = true
  comment         = "${var.name} API"
  aliases         = var.aliases
  price_class     = var.price_class
  web_acl_id      = var.web_acl_arn
  http_version    = "http2and3"
  tags            = var.tags

  origin {
    origin_id   = "alb"
    domain_name = var.origin_domain_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 60
      origin_keepalive_timeout = 60
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = var.cached_path_patterns
    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = "alb"
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD", "OPTIONS"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = aws_cloudfront_cache_policy.origin_controlled.id
      origin_request_policy_id   = aws_cloudfront_origin_request_policy.host_only.id
      response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
    }
  }

  default_cache_behavior {
    target_origin_id           = "alb"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  lifecycle {
    precondition {
      condition     = var.certificate_arn != "" && var.origin_domain_name != ""
      error_message = "certificate_arn (ACM, us-east-1) and origin_domain_name (the ALB) are required."
    }
  }
}

################################################################################
# Access logs (CloudFront's log delivery to CloudWatch Logs; the caller's provider is us-east-1)
################################################################################

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/cloudfront/${var.name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_delivery_source" "access" {
  name         = "${var.name}-cloudfront"
  log_type     = "ACCESS_LOGS"
  resource_arn = aws_cloudfront_distribution.this.arn
}

resource "aws_cloudwatch_log_delivery_destination" "access" {
  name          = "${var.name}-cloudfront"
  output_format = "json"

  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.access.arn
  }
}

resource "aws_cloudwatch_log_delivery" "access" {
  delivery_source_name     = aws_cloudwatch_log_delivery_source.access.name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.access.arn
}
