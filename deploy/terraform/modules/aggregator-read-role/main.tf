locals {
  # The actions come from tools/permissions.py (one source for code, Terraform and tests).
  actions = jsondecode(file("${path.module}/actions.json")).statements

  partition = split(":", var.hub_role_arns[0])[1]
  # Every environment's hub account (ptdev, stg and prod may run in different security accounts).
  hub_roots = distinct([for arn in var.hub_role_arns : "arn:${local.partition}:iam::${split(":", arn)[4]}:root"])
  # ArnLike: an exact ARN matches itself, and a pattern (role/…-write-role-*) matches each environment.
  # One value is written as a string, several as a list (jsondecode: a conditional cannot mix the types).
  hub_principal_arns = jsondecode(length(var.hub_role_arns) == 1 ? jsonencode(var.hub_role_arns[0]) : jsonencode(var.hub_role_arns))
  hub_principals     = jsondecode(length(local.hub_roots) == 1 ? jsonencode(local.hub_roots[0]) : jsonencode(local.hub_roots))

  # As the org role's: the hub's account narrowed to the hub roles by aws:PrincipalArn, so this role can
  # be applied before the hub role exists and keeps matching when the hub role is recreated.
  trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ConfigReportHub"
      Effect    = "Allow"
      Principal = { AWS = local.hub_principals }
      # sts:TagSession: a hub on EKS Pod Identity carries that session's transitive tags into every role
      # it assumes; AWS refuses the AssumeRole unless the trust allows them.
      Action = ["sts:AssumeRole", "sts:TagSession"]
      Condition = merge(
        { ArnLike = { "aws:PrincipalArn" = local.hub_principal_arns } },
        var.organization_id == null ? {} : { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } },
      )
    }]
  }

  # IAM names no resource for DescribeConfigurationAggregators (it lists the account's aggregators); the
  # reads accept the aggregator's ARN, which ends in an ID AWS assigns
  # (config-aggregator/config-aggregator-<id>): the account's aggregators, in any region. Every action
  # is a read.
  resources = {
    FindAggregator           = ["*"]
    ReadAggregatedCompliance = ["arn:${local.partition}:config:*:*:config-aggregator/*"]
  }

  permissions_policy = {
    Version = "2012-10-17"
    Statement = [
      for sid, actions in local.actions : {
        Sid      = sid
        Effect   = "Allow"
        Action   = actions
        Resource = local.resources[sid]
      }
    ]
  }
}

resource "aws_iam_role" "this" {
  # checkov:skip=CKV_AWS_61: the hub account root is narrowed to the hub roles by aws:PrincipalArn (see trust_policy); the check ignores conditions
  count = var.create ? 1 : 0

  name               = var.name
  description        = var.description
  assume_role_policy = jsonencode(local.trust_policy)
  # Sessions assumed from the hub's web-identity session are role-chained, which AWS caps at one hour.
  max_session_duration = 3600
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "config-report-read-aggregator"
  role   = aws_iam_role.this[0].id
  policy = jsonencode(local.permissions_policy)
}
