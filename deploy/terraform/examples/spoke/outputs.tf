output "role_arn" {
  description = "The read role the hub assumes in this account."
  value       = module.spoke_read_role.role_arn
}
