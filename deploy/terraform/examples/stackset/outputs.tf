output "stack_set_name" {
  description = "The StackSet: aws cloudformation list-stack-instances --stack-set-name <it> --call-as <call_as> shows each account's status."
  value       = aws_cloudformation_stack_set.this.name
}

output "role_name" {
  description = "The spoke role's name in every target account (the chart's config.spokeRoleName)."
  value       = var.role_name
}
