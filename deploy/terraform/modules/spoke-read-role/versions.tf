terraform {
  # 1.7 brought mock providers, which the module's own `terraform test` files use.
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
