# Plan-only tests with a mocked provider: no AWS account, no credentials, no network.
mock_provider "aws" {}

variables {
  region                  = "eu-west-1"
  call_as                 = "SELF"
  organizational_unit_ids = ["ou-q1w2-e3r4t5y6", "ou-q1w2-a9s8d7f6"]
  hub_role_arns           = ["arn:aws:iam::314159265358:role/system-config-report-generator-write-role-prod"]
  external_id             = "config-report-7f3a9c"
  organization_id         = "o-a1b2c3d4e5"
}

run "deploys_to_the_chosen_ous_and_to_accounts_that_join_later" {
  command = plan

  assert {
    condition     = aws_cloudformation_stack_set.this.permission_model == "SERVICE_MANAGED"
    error_message = "only a service-managed StackSet deploys by OU, with no per-account execution role"
  }
  assert {
    condition     = aws_cloudformation_stack_set.this.auto_deployment[0].enabled && !aws_cloudformation_stack_set.this.auto_deployment[0].retain_stacks_on_account_removal
    error_message = "accounts joining the OUs must get the role, and accounts leaving must lose it"
  }
  assert {
    condition     = toset(aws_cloudformation_stack_set_instance.this.deployment_targets[0].organizational_unit_ids) == toset(var.organizational_unit_ids)
    error_message = "the stack instances must target exactly the chosen OUs"
  }
  assert {
    condition     = aws_cloudformation_stack_set.this.capabilities == toset(["CAPABILITY_NAMED_IAM"])
    error_message = "a named IAM role needs CAPABILITY_NAMED_IAM"
  }
}

run "creates_the_same_role_as_the_spoke_module" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudformation_stack_set.this.template_body).Resources.SpokeReadRole.Properties.RoleName == "system-config-report-generator-read-role"
    error_message = "the role must keep the name the scanner assumes by default"
  }
  assert {
    condition     = jsonencode(jsondecode(aws_cloudformation_stack_set.this.template_body).Resources.SpokeReadRole.Properties.AssumeRolePolicyDocument) == module.spoke_policies.trust_policy
    error_message = "the trust policy must be the spoke-read-role module's"
  }
  assert {
    condition     = jsonencode(jsondecode(aws_cloudformation_stack_set.this.template_body).Resources.SpokeReadRole.Properties.Policies[0].PolicyDocument) == module.spoke_policies.permissions_policy
    error_message = "the permissions must be the spoke-read-role module's"
  }
  assert {
    condition     = jsondecode(aws_cloudformation_stack_set.this.template_body).Resources.SpokeReadRole.Properties.MaxSessionDuration == 3600
    error_message = "role-chained sessions last one hour at most"
  }
}

run "trusts_every_environments_hub_role" {
  command = plan

  variables {
    hub_role_arns = [
      "arn:aws:iam::314159265358:role/system-config-report-generator-write-role-ptdev",
      "arn:aws:iam::271828182845:role/system-config-report-generator-write-role-prod",
    ]
  }

  assert {
    condition     = tolist(jsondecode(aws_cloudformation_stack_set.this.template_body).Resources.SpokeReadRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike["aws:PrincipalArn"]) == var.hub_role_arns
    error_message = "every environment's hub role must be trusted"
  }
}

run "works_from_a_delegated_administrator" {
  command = plan

  variables {
    call_as = "DELEGATED_ADMIN"
  }

  assert {
    condition     = aws_cloudformation_stack_set.this.call_as == "DELEGATED_ADMIN" && aws_cloudformation_stack_set_instance.this.call_as == "DELEGATED_ADMIN"
    error_message = "both the StackSet and its instances must be managed as the delegated administrator"
  }
}

run "rejects_the_placeholder_organization" {
  command = plan
  variables {
    organization_id = "o-exampleorg1"
  }
  expect_failures = [var.organization_id]
}

run "rejects_a_documentation_hub_account" {
  command = plan
  variables {
    hub_role_arns = ["arn:aws:iam::111122223333:role/system-config-report-generator-write-role"]
  }
  expect_failures = [var.hub_role_arns]
}

run "rejects_an_account_id_where_an_ou_belongs" {
  command = plan
  variables {
    organizational_unit_ids = ["314159265358"]
  }
  expect_failures = [var.organizational_unit_ids]
}
