# One hub role per environment (cluster). No input has a placeholder default: set each in tfvars.

variable "region" {
  description = "Region of the provider (IAM is global; any enabled region works)."
  type        = string
}

variable "name" {
  description = "Name of this environment's hub role, e.g. system-config-report-generator-write-role-ptdev (the spoke and org roles' hub_role_arns list, or match, it)."
  type        = string
}

variable "trust" {
  description = "How the pods get the role: \"irsa\" (the cluster's OIDC provider and the ServiceAccount annotation) or \"pod_identity\" (EKS Pod Identity: an association, no annotation)."
  type        = string

  validation {
    condition     = contains(["irsa", "pod_identity"], var.trust)
    error_message = "trust must be \"irsa\" or \"pod_identity\"."
  }
}

variable "oidc_provider_arn" {
  description = "With trust = \"irsa\": this cluster's IAM OIDC provider (from aws eks describe-cluster ... identity.oidc.issuer); null with pod_identity. Required: write null explicitly."
  type        = string
  nullable    = true

  validation {
    condition     = var.oidc_provider_arn == null || !can(regex("EXAMPLE", coalesce(var.oidc_provider_arn, "-")))
    error_message = "oidc_provider_arn is the documentation placeholder: use your cluster's OIDC provider ARN."
  }
}

variable "cluster_arn" {
  description = "With trust = \"pod_identity\": this environment's EKS cluster (aws eks describe-cluster ... cluster.arn), which gets the association; null with irsa. Required: write null explicitly."
  type        = string
  nullable    = true

  validation {
    condition     = var.cluster_arn == null || !can(regex(":111122223333:", coalesce(var.cluster_arn, "-")))
    error_message = "cluster_arn holds the documentation account 111122223333: use your cluster's ARN."
  }
}

variable "namespace" {
  description = "Namespace the chart is installed in (helm -n); the role trusts only its ServiceAccount."
  type        = string
}

variable "service_account" {
  description = "The chart's serviceAccount.name."
  type        = string
  default     = "report-generator-sa"
}

variable "org_role_arn" {
  description = "The org-list role in the management account (the org example's output)."
  type        = string
}

variable "aggregator_role_arn" {
  description = "The aggregator-read-role (the aggregator example's output), for CONFIG_REPORT_SOURCE=aggregator and verify; null for none."
  type        = string
  default     = null
}

variable "spoke_account_ids" {
  description = "Only these accounts' spoke roles may be assumed; [] for every account (the role name still limits it)."
  type        = list(string)
  default     = []
}

variable "report_bucket" {
  description = "The bucket receiving the reports."
  type        = string

  validation {
    condition     = !startswith(var.report_bucket, "example-")
    error_message = "report_bucket is the documentation placeholder: use your report bucket's name."
  }
}

variable "report_prefix" {
  description = "This environment's key prefix: the chart's config.s3Prefix, or aws-config-reports/<environment>/ when config.environment is set."
  type        = string
}

variable "kms_key_arn" {
  description = "The key encrypting the reports; null when the bucket uses SSE-S3. Required: write null explicitly."
  type        = string
  nullable    = true

  validation {
    condition     = var.kms_key_arn == null || !can(regex("1234abcd-12ab-34cd-56ef-1234567890ab|EXAMPLE|\\.\\.\\.", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn is a documentation placeholder: use your key's ARN, or null for SSE-S3."
  }
}


variable "permissions_boundary_arn" {
  description = "Managed policy set as the role's permissions boundary, when the account requires one; null for none."
  type        = string
  default     = null
}

