# One environment's hub role, in the security account (*-sec-control) that runs its EKS cluster.
# Apply this last: it names the org role, and the spoke roles name it.
# trust = "irsa": the chart's ServiceAccount carries the role (serviceAccount.roleArn). trust =
# "pod_identity": the association below gives it the role, and the chart sets no annotation
# (serviceAccount.podIdentity: true); the cluster needs the eks-pod-identity-agent add-on.

provider "aws" {
  region = var.region
}

module "hub_role" {
  source = "../../modules/hub-irsa-role"

  name                     = var.name
  trust                    = var.trust
  oidc_provider_arn        = var.oidc_provider_arn
  cluster_arn              = var.cluster_arn
  namespace                = var.namespace
  service_account          = var.service_account
  org_role_arn             = var.org_role_arn
  aggregator_role_arn      = var.aggregator_role_arn
  spoke_account_ids        = var.spoke_account_ids
  report_bucket            = var.report_bucket
  report_prefix            = var.report_prefix
  kms_key_arn              = var.kms_key_arn
  permissions_boundary_arn = var.permissions_boundary_arn

  tags = {
    Application = "config-report"
  }
}

# EKS Pod Identity: pods of the chart's ServiceAccount get the hub role. (IRSA needs no association.)
resource "aws_eks_pod_identity_association" "this" {
  count = var.trust == "pod_identity" ? 1 : 0

  cluster_name    = split("/", coalesce(var.cluster_arn, "/"))[1]
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = module.hub_role.role_arn

  tags = {
    Application = "config-report"
  }
}
