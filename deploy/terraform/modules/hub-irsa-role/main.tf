locals {
  # The partition of whichever ARN the chosen trust names (aws, aws-cn, aws-us-gov).
  partition = split(":", coalesce(var.oidc_provider_arn, var.cluster_arn, "arn:aws:"))[1]
  # The provider ARN ends with the issuer (host and path), which prefixes the token's claim keys.
  issuer = replace(coalesce(var.oidc_provider_arn, "-"), "/^arn:[^:]+:iam::[0-9]{12}:oidc-provider\\//", "")

  # The actions come from src/config_report/permissions.py (one source for code, Terraform and tests).
  actions = jsondecode(file("${path.module}/actions.json")).statements

  spoke_role_arns = (
    length(var.spoke_account_ids) == 0
    ? ["arn:${local.partition}:iam::*:role/${var.spoke_role_name}"]
    : [for id in var.spoke_account_ids : "arn:${local.partition}:iam::${id}:role/${var.spoke_role_name}"]
  )

  # What each statement of permissions.py may touch; a statement with nothing to touch is left out.
  resources = {
    AssumeScannerRoles = concat(local.spoke_role_arns, [var.org_role_arn], compact([var.aggregator_role_arn]))
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

  # IRSA: the cluster's OIDC provider vouches for the ServiceAccount's projected token.
  irsa_statement = {
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
  }

  # EKS Pod Identity: EKS assumes the role for the pod (sts:AssumeRole) and tags the session with the
  # cluster, namespace and ServiceAccount (sts:TagSession); the conditions read those tags, so only this
  # cluster's ServiceAccount gets the role whatever associations exist. The association must keep its
  # session tags (disable_session_tags false, the default).
  pod_identity_statement = {
    Sid       = "ReportGeneratorPodIdentity"
    Effect    = "Allow"
    Principal = { Service = "pods.eks.amazonaws.com" }
    Action    = ["sts:AssumeRole", "sts:TagSession"]
    Condition = {
      StringEquals = {
        "aws:RequestTag/eks-cluster-arn"            = var.cluster_arn
        "aws:RequestTag/kubernetes-namespace"       = var.namespace
        "aws:RequestTag/kubernetes-service-account" = var.service_account
      }
    }
  }

  trust_policy = {
    Version = "2012-10-17"
    # Through JSON: a conditional cannot choose between two objects of different shapes.
    Statement = [jsondecode(var.trust == "pod_identity" ? jsonencode(local.pod_identity_statement) : jsonencode(local.irsa_statement))]
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
  description          = coalesce(var.description, "config-report (${var.trust == "pod_identity" ? "EKS Pod Identity" : "IRSA"}): assumes the Config read roles and writes the weekly compliance report.")
  assume_role_policy   = jsonencode(local.trust_policy)
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  lifecycle {
    # Each trust needs its own input (a variable's validation cannot read another variable before 1.9).
    precondition {
      condition     = var.trust != "irsa" || var.oidc_provider_arn != null
      error_message = "trust = \"irsa\" needs oidc_provider_arn: the cluster's IAM OIDC provider."
    }
    precondition {
      condition     = var.trust != "pod_identity" || var.cluster_arn != null
      error_message = "trust = \"pod_identity\" needs cluster_arn: the EKS cluster whose Pod Identity association gives its pods this role."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "config-report-hub"
  role   = aws_iam_role.this[0].id
  policy = jsonencode(local.permissions_policy)
}
