variable "region" {
  description = "Region of the provider (IAM is global)."
  type        = string
  default     = "eu-west-1"
}

variable "hub_role_arn" {
  description = "The hub role in the security account."
  type        = string
  default     = "arn:aws:iam::111122223333:role/system-config-report-generator-write-role"
}

variable "external_id" {
  description = "The ExternalId the hub passes (CONFIG_REPORT_EXTERNAL_ID); null for none."
  type        = string
  default     = "config-report-example"
}

variable "organization_id" {
  description = "The organization the hub must belong to; null for no such condition."
  type        = string
  default     = "o-exampleorg1"
}
