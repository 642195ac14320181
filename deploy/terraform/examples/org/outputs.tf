output "role_arn" {
  description = "The chart's config.orgRoleArn (CONFIG_REPORT_ORG_ROLE_ARN) and the hub module's org_role_arn."
  value       = module.org_list_role.role_arn
}
