# The read role, in every account to be scanned (a baseline applied to each account).
# Apply this first: it only needs the hub role's ARN, which is known before the hub role exists.

provider "aws" {
  region = var.region
}

module "spoke_read_role" {
  source = "../../modules/spoke-read-role"

  hub_role_arn    = var.hub_role_arn
  external_id     = var.external_id
  organization_id = var.organization_id
}
