# No input has a placeholder default: set each in tfvars.

variable "region" {
  description = "Region the StackSet is administered from and its stack instances deployed to (one region is enough: IAM is global)."
  type        = string
}

variable "call_as" {
  description = "SELF when applied in the management account, DELEGATED_ADMIN when applied in a CloudFormation StackSets delegated administrator account."
  type        = string

  validation {
    condition     = contains(["SELF", "DELEGATED_ADMIN"], var.call_as)
    error_message = "call_as must be SELF (management account) or DELEGATED_ADMIN (delegated administrator)."
  }
}

variable "organizational_unit_ids" {
  description = "OUs (ou-xxxx-xxxxxxxx) or the root (r-xxxx) whose accounts, present and future, get the spoke role; sub-OUs included."
  type        = list(string)

  validation {
    condition     = length(var.organizational_unit_ids) > 0 && alltrue([for id in var.organizational_unit_ids : can(regex("^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$", id))])
    error_message = "organizational_unit_ids must be a non-empty list of OU IDs (ou-ab12-cdef3456) or the root ID (r-ab12)."
  }
  validation {
    condition     = !contains(var.organizational_unit_ids, "ou-ab12-cdef3456")
    error_message = "organizational_unit_ids holds the documentation placeholder ou-ab12-cdef3456: list your OUs (aws organizations list-organizational-units-for-parent)."
  }
}

variable "hub_role_arns" {
  description = "The hub role of every environment (ptdev, stg, prod), or an aws:PrincipalArn pattern."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.hub_role_arns : !can(regex(":iam::(111122223333|999988887777|123456789012):", arn))])
    error_message = "hub_role_arns still holds a documentation account ID (111122223333, 999988887777, 123456789012): use the hub role ARNs of your security account(s)."
  }
}

variable "external_id" {
  description = "The ExternalId the hub passes (CONFIG_REPORT_EXTERNAL_ID); null for none. Required: write null explicitly."
  type        = string
  nullable    = true

  validation {
    condition     = var.external_id == null || !can(regex("example", coalesce(var.external_id, "-")))
    error_message = "external_id is a placeholder: generate one (config-report-$(openssl rand -hex 8)) or set null."
  }
}

variable "organization_id" {
  description = "The organization the hub must belong to; null for no aws:PrincipalOrgID condition. Required: write null explicitly."
  type        = string
  nullable    = true

  validation {
    condition     = var.organization_id == null || !can(regex("example", coalesce(var.organization_id, "-")))
    error_message = "organization_id is a placeholder (o-exampleorg1): use your organization's ID, o-xxxxxxxxxx."
  }
}

variable "role_name" {
  description = "Name of the spoke role in every account (CONFIG_REPORT_SPOKE_ROLE_NAME)."
  type        = string
  default     = "system-config-report-generator-read-role"
}

variable "permissions_boundary_arn" {
  description = "Managed policy set as each role's permissions boundary (it must exist in every target account); null for none."
  type        = string
  default     = null
}

variable "failure_tolerance_percentage" {
  description = "Share of accounts per region that may fail before CloudFormation stops the rollout."
  type        = number
  default     = 10
}

variable "max_concurrent_percentage" {
  description = "Share of accounts deployed at once."
  type        = number
  default     = 25
}
