# Plan-only tests with a mocked provider: no AWS account, no credentials, no network.
mock_provider "aws" {}

variables {
  hub_role_arns = ["arn:aws:iam::111122223333:role/system-config-report-generator-write-role"]
}

run "trusts_only_the_hub_role_through_its_account_by_default" {
  command = plan

  assert {
    condition     = aws_iam_role.this[0].name == "system-config-report-generator-read-role"
    error_message = "the spoke role must keep the name the scanner assumes by default"
  }
  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement == [{
      Sid       = "ConfigReportHub"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:root" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = { ArnLike = { "aws:PrincipalArn" = var.hub_role_arns[0] } }
    }]
    error_message = "only the hub role may assume the spoke role: its account as principal, its ARN as aws:PrincipalArn"
  }
  assert {
    condition     = aws_iam_role.this[0].max_session_duration == 3600
    error_message = "role-chained sessions last one hour at most; the role must not pretend otherwise"
  }
}

run "requires_the_external_id_when_one_is_set" {
  command = plan

  variables {
    external_id = "config-report-7f3a"
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition == {
      ArnLike      = { "aws:PrincipalArn" = var.hub_role_arns[0] }
      StringEquals = { "sts:ExternalId" = "config-report-7f3a" }
    }
    error_message = "the trust policy must require the hub role and the ExternalId"
  }
}

run "requires_the_callers_organization_when_one_is_set" {
  command = plan

  variables {
    external_id     = "config-report-7f3a"
    organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition == {
      ArnLike      = { "aws:PrincipalArn" = var.hub_role_arns[0] }
      StringEquals = { "sts:ExternalId" = "config-report-7f3a", "aws:PrincipalOrgID" = "o-a1b2c3d4e5" }
    }
    error_message = "the trust policy must require the hub role, the ExternalId and the organization"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { AWS = "arn:aws:iam::111122223333:root" }
    error_message = "conditions must narrow the hub account principal, not replace it"
  }
}

# A hub role with a path, in another partition: the account root and the role ARN follow it.
run "trusts_the_hub_account_of_the_hub_roles_own_partition" {
  command = plan

  variables {
    hub_role_arns = ["arn:aws-us-gov:iam::444455556666:role/platform/config-report-hub"]
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { AWS = "arn:aws-us-gov:iam::444455556666:root" }
    error_message = "the principal must be the hub role's account in the hub role's partition"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition == { ArnLike = { "aws:PrincipalArn" = "arn:aws-us-gov:iam::444455556666:role/platform/config-report-hub" } }
    error_message = "aws:PrincipalArn must be the hub role's full ARN, path included"
  }
}

run "grants_exactly_the_config_and_region_reads" {
  command = plan

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Action])) == toset([
      "config:DescribeConfigurationRecorderStatus",
      "config:ListConfigurationRecorders",
      "config:DescribeConfigRules",
      "config:DescribeComplianceByConfigRule",
      "config:DescribeConfigRuleEvaluationStatus",
      "config:SelectResourceConfig",
      "config:ListDiscoveredResources",
      "config:DescribeConformancePacks",
      "config:GetComplianceDetailsByConfigRule",
      "config:DescribeConformancePackCompliance",
      "ec2:DescribeRegions",
    ])
    error_message = "the spoke role must grant exactly the reads the scanner makes"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Effect == "Allow" && alltrue([for a in s.Action : can(regex("^[a-z0-9]+:(Describe|Get|List|Select)", a))])])
    error_message = "the spoke role must be read-only"
  }
  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s.Resource }["ReadNoncompliantResources"] == ["arn:aws:config:*:*:config-rule/*"]
    error_message = "the non-compliant resource reads must be limited to Config rules"
  }
  assert {
    condition     = { for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid => s.Resource }["ReadConformancePackRules"] == ["arn:aws:config:*:*:conformance-pack/*"]
    error_message = "the conformance pack rule reads must be limited to conformance packs"
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

run "rejects_a_hub_that_is_not_a_role_arn" {
  command = plan
  variables {
    hub_role_arns = ["arn:aws:iam::111122223333:root"]
  }
  expect_failures = [var.hub_role_arns]
}

run "rejects_a_hub_account_id_that_is_not_12_digits" {
  command = plan
  variables {
    hub_role_arns = ["arn:aws:iam::11112222333:role/system-config-report-generator-write-role"]
  }
  expect_failures = [var.hub_role_arns]
}

run "rejects_an_external_id_sts_would_refuse" {
  command = plan
  variables {
    external_id = "x"
  }
  expect_failures = [var.external_id]
}

run "rejects_an_organization_id_that_is_not_one" {
  command = plan
  variables {
    organization_id = "r-ab12"
  }
  expect_failures = [var.organization_id]
}

run "rejects_a_permissions_boundary_that_is_not_a_policy_arn" {
  command = plan
  variables {
    permissions_boundary_arn = "arn:aws:iam::111122223333:role/boundary"
  }
  expect_failures = [var.permissions_boundary_arn]
}

# ptdev, stg and prod each run their own cluster and hub role, two of them in another security account.
run "trusts_every_environments_hub_role" {
  command = plan

  variables {
    hub_role_arns = [
      "arn:aws:iam::111122223333:role/system-config-report-generator-write-role-ptdev",
      "arn:aws:iam::222233334444:role/system-config-report-generator-write-role-stg",
      "arn:aws:iam::222233334444:role/system-config-report-generator-write-role-prod",
    ]
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { AWS = ["arn:aws:iam::111122223333:root", "arn:aws:iam::222233334444:root"] }
    error_message = "each hub account must be a principal, once"
  }
  assert {
    condition     = tolist(jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.ArnLike["aws:PrincipalArn"]) == var.hub_role_arns
    error_message = "aws:PrincipalArn must list exactly the environments' hub roles"
  }
}

run "trusts_hub_roles_by_an_arn_pattern" {
  command = plan

  variables {
    hub_role_arns = ["arn:aws:iam::111122223333:role/system-config-report-generator-write-role-*"]
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.ArnLike == { "aws:PrincipalArn" = "arn:aws:iam::111122223333:role/system-config-report-generator-write-role-*" }
    error_message = "a pattern must reach aws:PrincipalArn as written, under ArnLike"
  }
}

run "rejects_an_empty_hub_list" {
  command = plan
  variables {
    hub_role_arns = []
  }
  expect_failures = [var.hub_role_arns]
}

run "rejects_a_wildcard_hub_account" {
  command = plan
  variables {
    hub_role_arns = ["arn:aws:iam::*:role/system-config-report-generator-write-role"]
  }
  expect_failures = [var.hub_role_arns]
}
