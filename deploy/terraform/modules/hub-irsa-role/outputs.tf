output "role_arn" {
  description = "ARN of the hub role: with IRSA the chart's serviceAccount.roleArn (rendered as the eks.amazonaws.com/role-arn annotation), with EKS Pod Identity the association's role_arn; and one of the hub_role_arns of the spoke and org roles."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the hub role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_unique_id" {
  description = "Stable unique ID of the hub role."
  value       = try(aws_iam_role.this[0].unique_id, null)
}

output "trust_policy" {
  description = "The role's trust policy (JSON): the web-identity conditions on the ServiceAccount (IRSA), or pods.eks.amazonaws.com with the cluster, namespace and ServiceAccount session tags (EKS Pod Identity)."
  value       = try(aws_iam_role.this[0].assume_role_policy, null)
}

output "permissions_policy" {
  description = "The role's permission policy (JSON), rendered from the actions in actions.json."
  value       = try(aws_iam_role_policy.this[0].policy, null)
}

output "service_account_subject" {
  description = "The only token subject the role trusts: system:serviceaccount:<namespace>:<service account>."
  value       = "system:serviceaccount:${var.namespace}:${var.service_account}"
}
