output "role_arn" {
  description = "Annotate the chart's ServiceAccount with it (serviceAccount.annotations.eks.amazonaws.com/role-arn)."
  value       = module.hub_role.role_arn
}

output "service_account_subject" {
  description = "The only ServiceAccount the role trusts."
  value       = module.hub_role.service_account_subject
}
