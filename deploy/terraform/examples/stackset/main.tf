# The spoke read role in every account of chosen OUs, through one service-managed CloudFormation
# StackSet applied once in the management account (or a StackSets delegated administrator).
# Automatic deployment gives the role to accounts that join those OUs later, and removes it from
# accounts that leave. The trust and permission policies are the spoke-read-role module's own, so the
# per-account example and this one grant exactly the same thing.
#
# Before the first apply, with management-account credentials, once per organization:
#   aws organizations enable-aws-service-access --service-principal member.org.stacksets.cloudformation.amazonaws.com
# (the console's "Activate trusted access" in CloudFormation StackSets does the same).
# A service-managed StackSet never deploys to the management account itself: apply ../spoke there if
# the management account is to be scanned.

provider "aws" {
  region = var.region
}

# create = false: only the policy documents are wanted here; CloudFormation creates the roles.
module "spoke_policies" {
  source = "../../modules/spoke-read-role"

  create          = false
  name            = var.role_name
  hub_role_arns   = var.hub_role_arns
  external_id     = var.external_id
  organization_id = var.organization_id
}

locals {
  template = {
    AWSTemplateFormatVersion = "2010-09-09"
    Description              = "config-report: read-only access to AWS Config compliance, assumed by the hub role(s)."
    Resources = {
      SpokeReadRole = {
        Type = "AWS::IAM::Role"
        Properties = merge(
          {
            RoleName                 = var.role_name
            Description              = "config-report: read-only access to AWS Config compliance, assumed by the hub role."
            MaxSessionDuration       = 3600
            AssumeRolePolicyDocument = jsondecode(module.spoke_policies.trust_policy)
            Policies = [{
              PolicyName     = "config-report-read"
              PolicyDocument = jsondecode(module.spoke_policies.permissions_policy)
            }]
            Tags = [{ Key = "Application", Value = "config-report" }]
          },
          var.permissions_boundary_arn == null ? {} : { PermissionsBoundary = var.permissions_boundary_arn },
        )
      }
    }
  }
}

resource "aws_cloudformation_stack_set" "this" {
  name             = "config-report-spoke-read-role"
  description      = "config-report spoke read role in every account of the chosen OUs"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.call_as
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = jsonencode(local.template)

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }

  managed_execution {
    active = true
  }

  operation_preferences {
    failure_tolerance_percentage = var.failure_tolerance_percentage
    max_concurrent_percentage    = var.max_concurrent_percentage
  }

  lifecycle {
    # AWS fills this in for service-managed StackSets; it is not ours to change.
    ignore_changes = [administration_role_arn]
  }
}

resource "aws_cloudformation_stack_set_instance" "this" {
  stack_set_name = aws_cloudformation_stack_set.this.name
  call_as        = var.call_as
  region         = var.region

  deployment_targets {
    organizational_unit_ids = var.organizational_unit_ids
  }

  operation_preferences {
    failure_tolerance_percentage = var.failure_tolerance_percentage
    max_concurrent_percentage    = var.max_concurrent_percentage
  }
}
