variable "create" {
  description = "Whether to create the role (false turns the module into a no-op)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the hub role the report generator's pods assume (through IRSA or EKS Pod Identity)."
  type        = string
  default     = "system-config-report-generator-write-role"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.name))
    error_message = "name must be an IAM role name: 1-64 letters, digits and +=,.@_-."
  }
}

variable "description" {
  description = "Description of the role, shown in the IAM console; null for one that names the trust."
  type        = string
  default     = null
}

variable "trust" {
  description = "How the pods get the role: \"irsa\" (IAM roles for service accounts: the cluster's OIDC provider, the ServiceAccount's eks.amazonaws.com/role-arn annotation) or \"pod_identity\" (EKS Pod Identity: pods.eks.amazonaws.com, an aws_eks_pod_identity_association)."
  type        = string
  default     = "irsa"

  validation {
    condition     = contains(["irsa", "pod_identity"], var.trust)
    error_message = "trust must be \"irsa\" or \"pod_identity\"."
  }
}

variable "oidc_provider_arn" {
  description = "With trust = \"irsa\" (required then): ARN of the EKS cluster's IAM OIDC provider, e.g. arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[a-z0-9.-]+(/[A-Za-z0-9._-]+)*$", coalesce(var.oidc_provider_arn, "-")))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN: arn:aws:iam::<account-id>:oidc-provider/<issuer host and path>."
  }
}

variable "cluster_arn" {
  description = "With trust = \"pod_identity\" (required then): ARN of the EKS cluster whose pods get the role, e.g. arn:aws:eks:eu-west-1:111122223333:cluster/ptdev-cybsecops-cluster; the trust requires its eks-cluster-arn session tag."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_arn == null || can(regex("^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", coalesce(var.cluster_arn, "-")))
    error_message = "cluster_arn must be an EKS cluster ARN: arn:aws:eks:<region>:<account-id>:cluster/<name>."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the report generator's ServiceAccount (the Helm chart's default)."
  type        = string
  default     = "security-compliance"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes namespace name: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit."
  }
}

variable "service_account" {
  description = "Name of the report generator's Kubernetes ServiceAccount (the Helm chart's default)."
  type        = string
  default     = "report-generator-sa"

  validation {
    condition     = length(var.service_account) <= 253 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.service_account))
    error_message = "service_account must be a Kubernetes ServiceAccount name: lowercase letters, digits, '-' and '.', at most 253 characters."
  }
}

variable "spoke_role_name" {
  description = "Name of the read role in every scanned account (CONFIG_REPORT_SPOKE_ROLE_NAME)."
  type        = string
  default     = "system-config-report-generator-read-role"

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.spoke_role_name))
    error_message = "spoke_role_name must be an IAM role name: 1-64 letters, digits and +=,.@_-."
  }
}

variable "spoke_account_ids" {
  description = "Accounts whose read role the hub may assume. Empty: that role name in any account, for organizations that add accounts often (the spoke role's trust policy is then what limits it)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.spoke_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "spoke_account_ids must be 12-digit AWS account IDs, as strings (leading zeros matter)."
  }
}

variable "org_role_arn" {
  description = "ARN of the organization-listing role in the management account (CONFIG_REPORT_ORG_ROLE_ARN)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", var.org_role_arn))
    error_message = "org_role_arn must be an IAM role ARN: arn:aws:iam::<account-id>:role/<name>."
  }
}

variable "aggregator_role_arn" {
  description = "ARN of the aggregator-read-role in the aggregator's account (CONFIG_REPORT_AGGREGATOR_ROLE_ARN), for CONFIG_REPORT_SOURCE=aggregator and verify; null when the hub reads no aggregator, or reads it with its own credentials."
  type        = string
  default     = null

  validation {
    condition     = var.aggregator_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", coalesce(var.aggregator_role_arn, "-")))
    error_message = "aggregator_role_arn must be an IAM role ARN: arn:aws:iam::<account-id>:role/<name>."
  }
}

variable "report_bucket" {
  description = "Name of the S3 bucket the reports are written to (CONFIG_REPORT_S3_BUCKET)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket)) && !strcontains(var.report_bucket, "..")
    error_message = "report_bucket must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'."
  }
}

variable "report_prefix" {
  description = "Key prefix under which the reports are written (CONFIG_REPORT_S3_PREFIX); the role may write nowhere else."
  type        = string
  default     = "aws-config-reports/"

  validation {
    condition     = can(regex("^([^/*?][^*?]*/)?$", var.report_prefix))
    error_message = "report_prefix must be empty or end with '/', must not start with '/', and must not contain '*' or '?'."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the reports (CONFIG_REPORT_S3_KMS_KEY_ID); null when the bucket uses SSE-S3."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account-id>:key/<key-id>), not an alias."
  }
}

variable "exceptions_object_arn" {
  description = "ARN of the S3 object holding the accepted exceptions when CONFIG_REPORT_EXCEPTIONS_FILE is an s3:// URI (arn:aws:s3:::bucket/key); null when they come from a mounted ConfigMap or are not used."
  type        = string
  default     = null

  validation {
    condition     = var.exceptions_object_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*?]+$", var.exceptions_object_arn))
    error_message = "exceptions_object_arn must be one S3 object's ARN, arn:aws:s3:::<bucket>/<key>, without wildcards."
  }
}

variable "permissions_boundary_arn" {
  description = "ARN of a managed policy set as the role's permissions boundary; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[\\w+=,.@/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN: arn:aws:iam::<account-id>:policy/<name>."
  }
}

variable "max_session_duration" {
  description = "Longest hub session, in seconds (IRSA; EKS Pod Identity sessions are EKS's to set). Spoke sessions are role-chained and capped at one hour whatever this says; the scanner refreshes them."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200 && floor(var.max_session_duration) == var.max_session_duration
    error_message = "max_session_duration must be a whole number of seconds from 3600 (1 hour) to 43200 (12 hours)."
  }
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}
