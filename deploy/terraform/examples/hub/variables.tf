variable "region" {
  description = "Region of the provider (IAM is global)."
  type        = string
  default     = "eu-west-1"
}

variable "oidc_provider_arn" {
  description = "The EKS cluster's IAM OIDC provider (aws eks describe-cluster ... identity.oidc.issuer)."
  type        = string
  default     = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

variable "org_role_arn" {
  description = "The org-list role in the management account (the org example's output)."
  type        = string
  default     = "arn:aws:iam::999988887777:role/system-config-report-generator-list-org-role"
}

variable "report_bucket" {
  description = "The bucket receiving the reports."
  type        = string
  default     = "example-security-config-reports"
}

variable "kms_key_arn" {
  description = "The key encrypting the reports; null when the bucket uses SSE-S3."
  type        = string
  default     = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

variable "jira_ticket_ledger" {
  description = "True when the report opens a weekly Jira ticket (CONFIG_REPORT_JIRA_URL is set)."
  type        = bool
  default     = true
}

variable "sharded" {
  description = "True when the chart's config.shardCount is above 1 (each report scanned by several pods)."
  type        = bool
  default     = false
}
