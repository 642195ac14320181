output "role_arn" {
  description = "ARN of the role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "role_name" {
  description = "Name of the role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_unique_id" {
  description = "Stable unique ID of the role."
  value       = try(aws_iam_role.this[0].unique_id, null)
}

output "trust_policy" {
  description = "The role's trust policy (JSON): the hub account, narrowed to the hub role by aws:PrincipalArn, with the optional conditions."
  value       = try(aws_iam_role.this[0].assume_role_policy, null)
}

output "permissions_policy" {
  description = "The role's permission policy (JSON), rendered from the actions in actions.json."
  value       = try(aws_iam_role_policy.this[0].policy, null)
}
