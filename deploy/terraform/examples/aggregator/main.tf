# The aggregator read role, in the account holding the AWS Config aggregator (Control Tower's Audit
# account, or your security account): only for CONFIG_REPORT_SOURCE=aggregator and `config-report verify`.

provider "aws" {
  region = var.region
}

module "aggregator_read_role" {
  source = "../../modules/aggregator-read-role"

  hub_role_arns            = var.hub_role_arns
  organization_id          = var.organization_id
  permissions_boundary_arn = var.permissions_boundary_arn
}
