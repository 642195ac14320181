# Tests with a mocked provider (plans, and one apply whose resources exist only in the mock): no AWS
# account, no credentials, no network. The example with each trust, as a deployer's tfvars would set it.
mock_provider "aws" {
  # The provider checks that the association's role_arn is an ARN; the mock's random IDs are not.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::314159265358:role/system-config-report-generator-write-role-ptdev"
    }
  }
}

variables {
  region            = "eu-west-1"
  name              = "system-config-report-generator-write-role-ptdev"
  trust             = "irsa"
  oidc_provider_arn = "arn:aws:iam::314159265358:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0A1B2C3D"
  cluster_arn       = null
  namespace         = "security-compliance"
  org_role_arn      = "arn:aws:iam::161803398874:role/system-config-report-generator-list-org-role"
  report_bucket     = "acme-security-config-reports"
  report_prefix     = "aws-config-reports/ptdev/"
  kms_key_arn       = null
}

run "irsa_trusts_the_oidc_provider_and_needs_no_association" {
  command = plan

  assert {
    condition     = jsondecode(module.hub_role.trust_policy).Statement[0].Principal == { Federated = var.oidc_provider_arn }
    error_message = "with IRSA the cluster's OIDC provider is trusted"
  }
  assert {
    condition     = length(aws_eks_pod_identity_association.this) == 0 && output.pod_identity_association_arn == null
    error_message = "IRSA needs no Pod Identity association: the chart's annotation names the role"
  }
}

run "pod_identity_associates_the_charts_service_account_with_the_role" {
  # apply (against the mocked provider): the role's ARN is known only once it is "created".
  command = apply

  variables {
    trust             = "pod_identity"
    oidc_provider_arn = null
    cluster_arn       = "arn:aws:eks:eu-west-1:314159265358:cluster/ptdev-cybsecops-cluster"
  }

  assert {
    condition     = aws_eks_pod_identity_association.this[0].cluster_name == "ptdev-cybsecops-cluster"
    error_message = "the association belongs to the cluster named in cluster_arn"
  }
  assert {
    condition     = aws_eks_pod_identity_association.this[0].namespace == "security-compliance" && aws_eks_pod_identity_association.this[0].service_account == "report-generator-sa"
    error_message = "the association names the release namespace and the chart's ServiceAccount"
  }
  assert {
    condition     = aws_eks_pod_identity_association.this[0].role_arn == module.hub_role.role_arn
    error_message = "the association gives the ServiceAccount the hub role"
  }
  assert {
    condition     = jsondecode(module.hub_role.trust_policy).Statement[0].Principal == { Service = "pods.eks.amazonaws.com" }
    error_message = "with EKS Pod Identity, EKS itself (pods.eks.amazonaws.com) is trusted"
  }
  assert {
    condition     = jsondecode(module.hub_role.trust_policy).Statement[0].Condition.StringEquals["aws:RequestTag/eks-cluster-arn"] == var.cluster_arn
    error_message = "only the associated cluster's pods get the role"
  }
}

run "rejects_a_documentation_cluster" {
  command = plan
  variables {
    trust       = "pod_identity"
    cluster_arn = "arn:aws:eks:eu-west-1:111122223333:cluster/example"
  }
  expect_failures = [var.cluster_arn]
}

run "rejects_a_trust_it_does_not_offer" {
  command = plan
  variables {
    trust = "kube2iam"
  }
  expect_failures = [var.trust]
}

run "rejects_the_documentation_oidc_provider" {
  command = plan
  variables {
    oidc_provider_arn = "arn:aws:iam::314159265358:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  }
  expect_failures = [var.oidc_provider_arn]
}
