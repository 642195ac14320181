variable "create" {
  description = "Whether to create the role (false turns the module into a no-op)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the role assumed in the aggregator's account by the hub role (CONFIG_REPORT_AGGREGATOR_ROLE_ARN points at it)."
  type        = string
  default     = "system-config-report-generator-read-aggregator-role"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.name))
    error_message = "name must be an IAM role name: 1-64 letters, digits and +=,.@_-."
  }
}

variable "description" {
  description = "Description of the role, shown in the IAM console."
  type        = string
  default     = "config-report: reads the organization's AWS Config compliance from this account's aggregators, assumed by the hub role."
}

variable "hub_role_arns" {
  description = "The hub roles trusted to assume this role, one per environment (e.g. the ptdev, stg and prod clusters' hub-irsa-role role_arn), as ARNs or aws:PrincipalArn patterns with * or ? in the role name. They need not exist yet."
  type        = list(string)

  validation {
    condition     = length(var.hub_role_arns) > 0 && alltrue([for arn in var.hub_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/*?-]{1,512}$", arn))])
    error_message = "hub_role_arns must be a non-empty list of IAM role ARNs or patterns: arn:aws:iam::<account-id>:role/<name>, with * or ? allowed in <name>."
  }
  validation {
    condition     = length(distinct([for arn in var.hub_role_arns : try(split(":", arn)[1], "")])) <= 1
    error_message = "hub_role_arns must all be in one partition (aws, aws-us-gov or aws-cn)."
  }
}

variable "organization_id" {
  description = "When set (o-xxxxxxxxxx), the caller must also belong to this AWS Organization (aws:PrincipalOrgID)."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be an AWS Organizations ID: o- followed by 10-32 lowercase letters or digits."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy set as the role's permissions boundary; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\\w+=,.@/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN: arn:aws:iam::<account-id>:policy/<name>."
  }
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}
