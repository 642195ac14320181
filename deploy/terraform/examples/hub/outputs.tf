output "role_arn" {
  description = "The chart's serviceAccount.roleArn (the chart writes it as the ServiceAccount's eks.amazonaws.com/role-arn annotation)."
  value       = module.hub_role.role_arn
}

output "service_account_subject" {
  description = "The only ServiceAccount the role trusts."
  value       = module.hub_role.service_account_subject
}
