# The hub role, in the security account (*-sec-control) that runs the EKS cluster.
# Apply this last: it names the org role, and the spoke roles name it.

provider "aws" {
  region = var.region
}

module "hub_role" {
  source = "../../modules/hub-irsa-role"

  oidc_provider_arn = var.oidc_provider_arn
  org_role_arn      = var.org_role_arn
  report_bucket     = var.report_bucket
  kms_key_arn       = var.kms_key_arn

  # The report opens a weekly Jira ticket, so the hub reads back its ticket records.
  jira_ticket_ledger = var.jira_ticket_ledger

  # Each report is scanned by several pods (the chart's config.shardCount > 1) and merged.
  sharded = var.sharded

  tags = {
    Application = "config-report"
  }
}
