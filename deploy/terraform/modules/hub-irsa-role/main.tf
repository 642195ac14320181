locals {
  partition = split(":", var.oidc_provider_arn)[1]
  # The provider ARN ends with the issuer (host and path), which prefixes the token's claim keys.
  issuer = replace(var.oidc_provider_arn, "/^arn:[^:]+:iam::[0-9]{12}:oidc-provider\\//", "")

  # The actions come from src/config_report/permissions.py (one source for code, Terraform and tests).
  actions = jsondecode(file("${path.module}/actions.json")).statements

  spoke_role_arns = (
    length(var.spoke_account_ids) == 0
    ? ["arn:${local.partition}:iam::*:role/${var.spoke_role_name}"]
    : [for id in var.spoke_account_ids : "arn:${local.partition}:iam::${id}:role/${var.spoke_role_name}"]
  )

  # What each statement of permissions.py may touch; a statement with nothing to touch is left out.
  resources = {
    AssumeScannerRoles = concat(local.spoke_role_arns, [var.org_role_arn])
    WriteReports       = ["arn:${local.partition}:s3:::${var.report_bucket}/${var.report_prefix}*"]
    EncryptReports     = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    # What the hub reads: everything under the prefix (earlier runs' snapshots, the week-over-week
    # baseline, the run history, the Jira ticket records, a sharded run's identity and parts), and the
    # accepted-exceptions file when the job reads it from S3 rather than a mounted ConfigMap. Listing is
    # limited to the prefix (below).
    ReadObjects = concat(
      ["arn:${local.partition}:s3:::${var.report_bucket}/${var.report_prefix}*"],
      var.exceptions_object_arn == null ? [] : [var.exceptions_object_arn],
    )
    ListEarlierReports = ["arn:${local.partition}:s3:::${var.report_bucket}"]
    DecryptReports     = var.kms_key_arn == null ? [] : [var.kms_key_arn]
  }

  # Conditions of the statements that have one (src/config_report/permissions.py, `_condition`).
  conditions = {
    ListEarlierReports = { StringLike = { "s3:prefix" = ["${var.report_prefix}*"] } }
  }

  trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ReportGeneratorServiceAccount"
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.issuer}:sub" = "system:serviceaccount:${var.namespace}:${var.service_account}"
          "${local.issuer}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  }

  permissions_policy = {
    Version = "2012-10-17"
    Statement = [
      for sid, actions in local.actions : merge(
        {
          Sid      = sid
          Effect   = "Allow"
          Action   = actions
          Resource = local.resources[sid]
        },
        contains(keys(local.conditions), sid) ? { Condition = local.conditions[sid] } : {},
      ) if length(local.resources[sid]) > 0
    ]
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name                 = var.name
  description          = var.description
  assume_role_policy   = jsonencode(local.trust_policy)
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "config-report-hub"
  role   = aws_iam_role.this[0].id
  policy = jsonencode(local.permissions_policy)
}
