# One environment's hub role, in the security account (*-sec-control) that runs its EKS cluster.
# Apply this last: it names the org role, and the spoke roles name it.

provider "aws" {
  region = var.region
}

module "hub_role" {
  source = "../../modules/hub-irsa-role"

  name                     = var.name
  oidc_provider_arn        = var.oidc_provider_arn
  namespace                = var.namespace
  service_account          = var.service_account
  org_role_arn             = var.org_role_arn
  spoke_account_ids        = var.spoke_account_ids
  report_bucket            = var.report_bucket
  report_prefix            = var.report_prefix
  kms_key_arn              = var.kms_key_arn
  permissions_boundary_arn = var.permissions_boundary_arn

  tags = {
    Application = "config-report"
  }
}
