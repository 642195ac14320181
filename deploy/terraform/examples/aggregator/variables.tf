# No input has a placeholder default: set each in tfvars.

variable "region" {
  description = "Region of the provider (IAM is global; any enabled region works)."
  type        = string
}

variable "hub_role_arns" {
  description = "The hub role of every environment (ptdev, stg, prod), or an aws:PrincipalArn pattern."
  type        = list(string)

  validation {
    condition     = alltrue([for arn in var.hub_role_arns : !can(regex(":iam::(111122223333|999988887777|123456789012):", arn))])
    error_message = "hub_role_arns still holds a documentation account ID (111122223333, 999988887777, 123456789012): use the hub role ARNs of your security account(s)."
  }
}

variable "organization_id" {
  description = "The organization the hub must belong to; null for no aws:PrincipalOrgID condition. Required: write null explicitly to go without it."
  type        = string
  nullable    = true

  validation {
    condition     = var.organization_id == null || !can(regex("example", coalesce(var.organization_id, "-")))
    error_message = "organization_id is a placeholder (o-exampleorg1): use your organization's ID, o-xxxxxxxxxx."
  }
}

variable "permissions_boundary_arn" {
  description = "Managed policy set as the role's permissions boundary, when the account requires one; null for none."
  type        = string
  default     = null
}
