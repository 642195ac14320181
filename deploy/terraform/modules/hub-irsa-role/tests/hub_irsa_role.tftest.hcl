# Plan-only tests with a mocked provider: no AWS account, no credentials, no network.
mock_provider "aws" {}

variables {
  oidc_provider_arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  org_role_arn      = "arn:aws:iam::999988887777:role/system-config-report-generator-list-org-role"
  report_bucket     = "example-security-reports"
}

run "trusts_only_the_report_generator_service_account_through_the_cluster_oidc_provider" {
  command = plan

  assert {
    condition     = aws_iam_role.this[0].name == "system-config-report-generator-write-role"
    error_message = "the hub role must keep the name the runbook and the spoke trust policies use"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role.this[0].assume_role_policy).Statement) == 1
    error_message = "the trust policy must have exactly one statement"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { Federated = var.oidc_provider_arn }
    error_message = "only the cluster's OIDC provider may be trusted"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity"
    error_message = "the trust must be for web identity only"
  }
  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition == {
      StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub" = "system:serviceaccount:security-compliance:report-generator-sa"
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud" = "sts.amazonaws.com"
      }
    }
    error_message = "the trust must pin both the ServiceAccount subject and the STS audience, with StringEquals"
  }
  assert {
    condition     = output.service_account_subject == "system:serviceaccount:security-compliance:report-generator-sa"
    error_message = "the default subject must match the Helm chart's namespace and ServiceAccount"
  }
  assert {
    condition     = aws_iam_role.this[0].max_session_duration == 3600 && aws_iam_role.this[0].permissions_boundary == null
    error_message = "defaults: one-hour sessions, no permissions boundary"
  }
  assert {
    condition     = aws_iam_role.this[0].description == "config-report (IRSA): assumes the Config read roles and writes the weekly compliance report."
    error_message = "the description must name the trust"
  }
}

run "trusts_only_the_clusters_service_account_through_eks_pod_identity" {
  command = plan

  variables {
    trust             = "pod_identity"
    oidc_provider_arn = null
    cluster_arn       = "arn:aws:eks:eu-west-1:111122223333:cluster/ptdev-cybsecops-cluster"
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement == [{
      Sid       = "ReportGeneratorPodIdentity"
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = {
        StringEquals = {
          "aws:RequestTag/eks-cluster-arn"            = "arn:aws:eks:eu-west-1:111122223333:cluster/ptdev-cybsecops-cluster"
          "aws:RequestTag/kubernetes-namespace"       = "security-compliance"
          "aws:RequestTag/kubernetes-service-account" = "report-generator-sa"
        }
      }
    }]
    error_message = "EKS Pod Identity: only pods.eks.amazonaws.com, assuming and tagging, for this cluster's ServiceAccount (by its session tags)"
  }
  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["AssumeScannerRoles"].Action == ["sts:AssumeRole", "sts:TagSession"]
    error_message = "a Pod Identity session's tags are transitive: the hub must be allowed to carry them into the roles it assumes"
  }
  assert {
    condition     = aws_iam_role.this[0].description == "config-report (EKS Pod Identity): assumes the Config read roles and writes the weekly compliance report."
    error_message = "the description must name the trust"
  }
}

run "irsa_needs_the_clusters_oidc_provider" {
  command = plan
  variables {
    oidc_provider_arn = null
  }
  expect_failures = [aws_iam_role.this]
}

run "pod_identity_needs_the_cluster" {
  command = plan
  variables {
    trust             = "pod_identity"
    oidc_provider_arn = null
  }
  expect_failures = [aws_iam_role.this]
}

run "rejects_a_trust_it_does_not_offer" {
  command = plan
  variables {
    trust = "kiam"
  }
  expect_failures = [var.trust]
}

run "rejects_a_cluster_arn_that_is_not_one" {
  command = plan
  variables {
    trust       = "pod_identity"
    cluster_arn = "ptdev-cybsecops-cluster"
  }
  expect_failures = [var.cluster_arn]
}

run "subject_follows_a_custom_namespace_and_service_account" {
  command = plan

  variables {
    namespace       = "aws-config-report-automation"
    service_account = "config-report"
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub"] == "system:serviceaccount:aws-config-report-automation:config-report"
    error_message = "the subject condition must name the configured namespace and ServiceAccount"
  }
}

run "may_assume_only_the_spoke_role_in_any_account_and_the_org_role" {
  command = plan

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["AssumeScannerRoles"].Resource == ["arn:aws:iam::*:role/system-config-report-generator-read-role", var.org_role_arn]
    error_message = "sts:AssumeRole must be limited to the spoke role name and the org role"
  }
  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["AssumeScannerRoles"].Action == ["sts:AssumeRole", "sts:TagSession"]
    error_message = "the assume statement must grant sts:AssumeRole, and sts:TagSession for EKS Pod Identity's transitive session tags, only"
  }
}

run "may_also_assume_the_aggregator_role_when_one_is_set" {
  command = plan

  variables {
    aggregator_role_arn = "arn:aws:iam::002233445566:role/system-config-report-generator-read-aggregator-role"
  }

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["AssumeScannerRoles"].Resource == ["arn:aws:iam::*:role/system-config-report-generator-read-role", var.org_role_arn, var.aggregator_role_arn]
    error_message = "with aggregator_role_arn, the aggregator role joins the assumable roles, its leading zeros kept"
  }
}

run "rejects_an_aggregator_role_that_is_not_a_role_arn" {
  command = plan
  variables {
    aggregator_role_arn = "system-config-report-generator-read-aggregator-role"
  }
  expect_failures = [var.aggregator_role_arn]
}

run "listed_spoke_accounts_narrow_the_assumable_roles" {
  command = plan

  variables {
    spoke_account_ids = ["012345678901", "210987654321"]
  }

  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["AssumeScannerRoles"].Resource == [
      "arn:aws:iam::012345678901:role/system-config-report-generator-read-role",
      "arn:aws:iam::210987654321:role/system-config-report-generator-read-role",
      var.org_role_arn,
    ]
    error_message = "with spoke_account_ids, only those accounts' spoke roles may be assumed"
  }
}

run "writes_only_under_the_report_prefix_and_uses_no_kms_without_a_key" {
  command = plan

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["WriteReports"] == { Sid = "WriteReports", Effect = "Allow", Action = ["s3:PutObject"], Resource = ["arn:aws:s3:::example-security-reports/aws-config-reports/*"] }
    error_message = "s3:PutObject must be limited to the report prefix"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid] == ["AssumeScannerRoles", "ListEarlierReports", "ReadObjects", "WriteReports"]
    error_message = "without a KMS key the role must get no KMS permission at all"
  }
}

run "uses_only_the_report_key_when_one_is_set" {
  command = plan

  variables {
    kms_key_arn              = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    permissions_boundary_arn = "arn:aws:iam::111122223333:policy/platform-boundary"
    max_session_duration     = 7200
  }

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["EncryptReports"].Resource == [var.kms_key_arn]
    error_message = "KMS permissions must name the report key only"
  }
  assert {
    condition     = aws_iam_role.this[0].permissions_boundary == var.permissions_boundary_arn && aws_iam_role.this[0].max_session_duration == 7200
    error_message = "the permissions boundary and session duration must be passed through"
  }
}

run "reads_and_lists_earlier_reports_only_under_the_prefix_and_decrypts_with_the_report_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.this[0].policy).Statement == [
      { Sid = "AssumeScannerRoles", Effect = "Allow", Action = ["sts:AssumeRole", "sts:TagSession"], Resource = ["arn:aws:iam::*:role/system-config-report-generator-read-role", var.org_role_arn] },
      { Sid = "DecryptReports", Effect = "Allow", Action = ["kms:Decrypt"], Resource = [var.kms_key_arn] },
      { Sid = "EncryptReports", Effect = "Allow", Action = ["kms:GenerateDataKey"], Resource = [var.kms_key_arn] },
      { Sid = "ListEarlierReports", Effect = "Allow", Action = ["s3:ListBucket"], Resource = ["arn:aws:s3:::example-security-reports"], Condition = { StringLike = { "s3:prefix" = ["aws-config-reports/*"] } } },
      { Sid = "ReadObjects", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["arn:aws:s3:::example-security-reports/aws-config-reports/*"] },
      { Sid = "WriteReports", Effect = "Allow", Action = ["s3:PutObject"], Resource = ["arn:aws:s3:::example-security-reports/aws-config-reports/*"] },
    ]
    error_message = "the hub may read and list only under the report prefix (earlier snapshots, history, ticket records), decrypting with the report key"
  }
}

run "reads_the_exceptions_object_besides_the_reports_when_one_is_set" {
  command = plan

  variables {
    exceptions_object_arn = "arn:aws:s3:::example-security-config/config-report/exceptions.yaml"
  }

  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s }["ReadObjects"] == { Sid = "ReadObjects", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["arn:aws:s3:::example-security-reports/aws-config-reports/*", var.exceptions_object_arn] }
    error_message = "the exceptions file must be readable, that one object besides the reports"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0 && output.role_arn == null
    error_message = "create = false must create nothing and output null"
  }
}

run "rejects_an_oidc_provider_arn_that_is_not_one" {
  command = plan
  variables {
    oidc_provider_arn = "arn:aws:iam::111122223333:role/not-a-provider"
  }
  expect_failures = [var.oidc_provider_arn]
}

run "rejects_a_namespace_kubernetes_would_refuse" {
  command = plan
  variables {
    namespace = "Security_Compliance"
  }
  expect_failures = [var.namespace]
}

run "rejects_a_service_account_kubernetes_would_refuse" {
  command = plan
  variables {
    service_account = "report generator"
  }
  expect_failures = [var.service_account]
}

run "rejects_an_account_id_that_is_not_12_digits" {
  command = plan
  variables {
    spoke_account_ids = ["12345678901"]
  }
  expect_failures = [var.spoke_account_ids]
}

run "rejects_an_org_role_that_is_not_a_role_arn" {
  command = plan
  variables {
    org_role_arn = "system-config-report-generator-list-org-role"
  }
  expect_failures = [var.org_role_arn]
}

run "rejects_a_bucket_name_s3_would_refuse" {
  command = plan
  variables {
    report_bucket = "Example_Reports"
  }
  expect_failures = [var.report_bucket]
}

run "rejects_a_prefix_with_a_wildcard_or_leading_slash" {
  command = plan
  variables {
    report_prefix = "/reports*/"
  }
  expect_failures = [var.report_prefix]
}

run "rejects_a_kms_alias_instead_of_a_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/reports"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_a_session_duration_iam_would_refuse" {
  command = plan
  variables {
    max_session_duration = 900
  }
  expect_failures = [var.max_session_duration]
}

run "rejects_a_role_name_iam_would_refuse" {
  command = plan
  variables {
    name = "config report"
  }
  expect_failures = [var.name]
}
