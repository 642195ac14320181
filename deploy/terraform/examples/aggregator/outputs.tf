output "role_arn" {
  description = "The chart's config.aggregatorRoleArn (CONFIG_REPORT_AGGREGATOR_ROLE_ARN) and the hub module's aggregator_role_arn."
  value       = module.aggregator_read_role.role_arn
}
