# The org-list role, in the organization's management account (or a delegated administrator account).

provider "aws" {
  region = var.region
}

module "org_list_role" {
  source = "../../modules/org-list-role"

  hub_role_arns            = var.hub_role_arns
  organization_id          = var.organization_id
  permissions_boundary_arn = var.permissions_boundary_arn
}
