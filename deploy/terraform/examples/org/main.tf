# The org-list role, in the organization's management account.

provider "aws" {
  region = var.region
}

module "org_list_role" {
  source = "../../modules/org-list-role"

  hub_role_arn    = var.hub_role_arn
  organization_id = var.organization_id
}
