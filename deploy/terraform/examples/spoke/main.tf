# The read role, in one account to be scanned (a baseline applied to each account, one state each).
# For every account of chosen OUs at once, and accounts that join later, see ../stackset instead.
# Apply this first: it only needs the hub roles' ARNs, which are known before the hub roles exist.

provider "aws" {
  region = var.region
}

module "spoke_read_role" {
  source = "../../modules/spoke-read-role"

  hub_role_arns            = var.hub_role_arns
  external_id              = var.external_id
  organization_id          = var.organization_id
  permissions_boundary_arn = var.permissions_boundary_arn
}
