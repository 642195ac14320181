locals {
  # The actions come from src/config_report/permissions.py (one source for code, Terraform and tests).
  actions = jsondecode(file("${path.module}/actions.json")).statements

  trust_policy = {
    Version = "2012-10-17"
    Statement = [merge(
      {
        Sid       = "ConfigReportHub"
        Effect    = "Allow"
        Principal = { AWS = var.hub_role_arn }
        Action    = "sts:AssumeRole"
      },
      var.organization_id == null ? {} : { Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } } },
    )]
  }

  partition = split(":", var.hub_role_arn)[1]

  # What each statement of permissions.py may touch: ListRoots accepts no narrower resource; the
  # walk is limited to roots and OUs. Every action is a List*; nothing here can change the organization.
  resources = {
    FindOrganizationRoot = ["*"]
    ListActiveAccounts = [
      "arn:${local.partition}:organizations::*:root/o-*/r-*",
      "arn:${local.partition}:organizations::*:ou/o-*/ou-*",
    ]
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

  name   = "config-report-list-org"
  role   = aws_iam_role.this[0].id
  policy = jsonencode(local.permissions_policy)
}
