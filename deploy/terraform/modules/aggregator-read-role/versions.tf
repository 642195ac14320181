terraform {
  # 1.5 as the hub module (and the runbook). The module's own `terraform test` files need 1.7
  # (mock providers); CI runs them with 1.11.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
