# Plan-only tests with a mocked provider: no AWS account, no credentials, no network.
mock_provider "aws" {}

variables {
  hub_role_arns = ["arn:aws:iam::111122223333:role/system-config-report-generator-write-role"]
}

run "trusts_only_the_hub_role_through_its_account" {
  command = plan

  assert {
    condition     = aws_iam_role.this[0].name == "system-config-report-generator-read-aggregator-role"
    error_message = "the aggregator role must keep the name the runbook uses"
  }
  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement == [{
      Sid       = "ConfigReportHub"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:root" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = { ArnLike = { "aws:PrincipalArn" = var.hub_role_arns[0] } }
    }]
    error_message = "only the hub role may assume the aggregator role: its account as principal, its ARN as aws:PrincipalArn"
  }
}

run "requires_the_callers_organization_when_one_is_set" {
  command = plan

  variables {
    organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition == {
      ArnLike      = { "aws:PrincipalArn" = var.hub_role_arns[0] }
      StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" }
    }
    error_message = "the trust policy must require the hub role and the organization"
  }
}

run "grants_exactly_the_aggregator_reads_on_aggregators_only" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role_policy.this[0].policy).Statement == [
      {
        Sid      = "FindAggregator"
        Effect   = "Allow"
        Action   = ["config:DescribeConfigurationAggregators"]
        Resource = ["*"]
      },
      {
        Sid    = "ReadAggregatedCompliance"
        Effect = "Allow"
        Action = [
          "config:DescribeConfigurationAggregatorSourcesStatus",
          "config:DescribeAggregateComplianceByConfigRules",
          "config:GetAggregateComplianceDetailsByConfigRule",
          "config:SelectAggregateResourceConfig",
        ]
        Resource = ["arn:aws:config:*:*:config-aggregator/*"]
      },
    ]
    error_message = "the aggregator role must grant exactly the aggregator reads the job makes, on aggregators"
  }
}

# A hub role in another partition: the principal and the aggregator ARNs follow it.
run "follows_the_hub_roles_partition" {
  command = plan

  variables {
    hub_role_arns = ["arn:aws-us-gov:iam::444455556666:role/platform/config-report-hub"]
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { AWS = "arn:aws-us-gov:iam::444455556666:root" }
    error_message = "the principal must be the hub role's account in the hub role's partition"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this[0].policy).Statement[1].Resource == ["arn:aws-us-gov:config:*:*:config-aggregator/*"]
    error_message = "the aggregators must be named in the hub role's partition"
  }
}

run "trusts_every_environments_hub_role" {
  command = plan

  variables {
    hub_role_arns = [
      "arn:aws:iam::111122223333:role/system-config-report-generator-write-role-ptdev",
      "arn:aws:iam::222233334444:role/system-config-report-generator-write-role-prod",
    ]
  }

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal == { AWS = ["arn:aws:iam::111122223333:root", "arn:aws:iam::222233334444:root"] }
    error_message = "each hub account must be a principal, once"
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
    hub_role_arns = ["111122223333"]
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

run "rejects_an_organization_id_that_is_not_one" {
  command = plan
  variables {
    organization_id = "o-SHOUT"
  }
  expect_failures = [var.organization_id]
}
