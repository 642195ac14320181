output "role_arn" {
  description = "With IRSA, the chart's serviceAccount.roleArn (the chart writes it as the ServiceAccount's eks.amazonaws.com/role-arn annotation); with EKS Pod Identity, the association's role."
  value       = module.hub_role.role_arn
}

output "service_account_subject" {
  description = "The only ServiceAccount the role trusts."
  value       = module.hub_role.service_account_subject
}

output "pod_identity_association_arn" {
  description = "With EKS Pod Identity, the association giving the ServiceAccount the role (aws eks describe-pod-identity-association); null with IRSA."
  value       = try(aws_eks_pod_identity_association.this[0].association_arn, null)
}
