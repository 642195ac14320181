"""The descriptions the simulated organization gives its AWS managed rules, by source identifier.

AWS's console fills a managed rule's `Description` with what the rule checks, and `DescribeConfigRules`
returns it; the Rule catalogue shows it. These say the same in the project's own words (each
written from the rule's page in the AWS Config Developer Guide), one per identifier the seeder deploys.
"""

from __future__ import annotations

DESCRIPTIONS = {
    "ACCESS_KEYS_ROTATED": (
        "Checks that active IAM access keys were rotated within the number of days in maxAccessKeyAge."
    ),
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": "Checks that CloudWatch Logs log groups are encrypted with a KMS key.",
    "CLOUD_TRAIL_ENABLED": "Checks that the account has at least one CloudTrail trail logging API activity.",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": (
        "Checks that CloudTrail trails encrypt their log files with a KMS key (SSE-KMS)."
    ),
    "CMK_BACKING_KEY_ROTATION_ENABLED": (
        "Checks that automatic key rotation is enabled for customer managed symmetric KMS keys."
    ),
    "DYNAMODB_PITR_ENABLED": "Checks that point-in-time recovery is enabled for DynamoDB tables.",
    "EBS_SNAPSHOT_PUBLIC_RESTORABLE_CHECK": "Checks that no EBS snapshot can be restored by everyone.",
    "EC2_EBS_ENCRYPTION_BY_DEFAULT": (
        "Checks that EBS encryption by default is on in the account and region, so new volumes are encrypted."
    ),
    "EC2_IMDSV2_CHECK": (
        "Checks that EC2 instances require Instance Metadata Service version 2 (IMDSv2) session tokens."
    ),
    "EC2_INSTANCE_NO_PUBLIC_IP": "Checks that EC2 instances have no public IPv4 address.",
    "EC2_SECURITY_GROUP_ATTACHED_TO_ENI": (
        "Checks that non-default security groups are attached to an EC2 instance or a network interface "
        "(finds unused ones)."
    ),
    "EC2_STOPPED_INSTANCE": (
        "Checks for EC2 instances stopped for longer than the allowed number of days (AllowedDays)."
    ),
    "EFS_ENCRYPTED_CHECK": "Checks that EFS file systems encrypt their data at rest with a KMS key.",
    "EKS_ENDPOINT_NO_PUBLIC_ACCESS": "Checks that an EKS cluster's API server endpoint is not public.",
    "ELB_LOGGING_ENABLED": "Checks that Application and Classic Load Balancers have access logging enabled.",
    "ENCRYPTED_VOLUMES": "Checks that EBS volumes attached to EC2 instances are encrypted.",
    "GUARDDUTY_ENABLED_CENTRALIZED": (
        "Checks that Amazon GuardDuty is enabled in the account and region, and, when a central account "
        "is given, that its findings go there."
    ),
    "IAM_PASSWORD_POLICY": (
        "Checks that the account's IAM password policy meets the given requirements (length, character "
        "kinds, reuse and maximum age)."
    ),
    "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS": (
        'Checks that customer managed IAM policies do not allow "*" actions on "*" resources (full '
        "administrator access)."
    ),
    "IAM_ROOT_ACCESS_KEY_CHECK": "Checks that the root user has no access keys.",
    "IAM_USER_MFA_ENABLED": "Checks that IAM users have multi-factor authentication (MFA) enabled.",
    "IAM_USER_UNUSED_CREDENTIALS_CHECK": (
        "Checks that IAM users' passwords and active access keys were used within the number of days in "
        "maxCredentialUsageAge."
    ),
    "INCOMING_SSH_DISABLED": (
        "Checks that security groups do not allow inbound SSH (TCP port 22) from 0.0.0.0/0 or ::/0."
    ),
    "LAMBDA_CONCURRENCY_CHECK": "Checks that Lambda functions have a concurrency limit configured.",
    "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED": (
        "Checks that a Lambda function's resource-based policy does not let everyone invoke it."
    ),
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": "Checks that at least one CloudTrail trail logs every region.",
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK": "Checks that RDS DB instances are not publicly accessible.",
    "RDS_MULTI_AZ_SUPPORT": "Checks that RDS DB instances are deployed in more than one Availability Zone.",
    "RDS_SNAPSHOTS_PUBLIC_PROHIBITED": "Checks that RDS snapshots are not shared with everyone.",
    "RDS_STORAGE_ENCRYPTED": "Checks that storage encryption is enabled for RDS DB instances.",
    "RESTRICTED_INCOMING_TRAFFIC": (
        "Checks that security groups do not allow unrestricted inbound TCP traffic to the ports given as "
        "parameters (by default 20, 21, 3306, 3389 and 4333) from 0.0.0.0/0 or ::/0."
    ),
    "ROOT_ACCOUNT_MFA_ENABLED": (
        "Checks that the account's root user signs in with multi-factor authentication."
    ),
    "S3_BUCKET_ACL_PROHIBITED": (
        "Checks that S3 buckets do not grant access with access control lists (ACLs)."
    ),
    "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED": "Checks that S3 buckets have Block Public Access turned on.",
    "S3_BUCKET_LOGGING_ENABLED": "Checks that S3 buckets have server access logging enabled.",
    "S3_BUCKET_PUBLIC_READ_PROHIBITED": (
        "Checks that S3 buckets do not allow public read access (Block Public Access settings, the bucket "
        "policy and the bucket ACL)."
    ),
    "S3_BUCKET_PUBLIC_WRITE_PROHIBITED": (
        "Checks that S3 buckets do not allow public write access (Block Public Access settings, the "
        "bucket policy and the bucket ACL)."
    ),
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": (
        "Checks that S3 buckets encrypt new objects by default, or that their policy refuses uploads "
        "without server-side encryption."
    ),
    "S3_BUCKET_SSL_REQUESTS_ONLY": "Checks that S3 bucket policies refuse requests that do not use HTTPS.",
    "S3_BUCKET_VERSIONING_ENABLED": "Checks that versioning is enabled on S3 buckets.",
    "SECURITYHUB_ENABLED": "Checks that AWS Security Hub is enabled in the account.",
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": (
        "Checks that the default security group of each VPC allows no inbound or outbound traffic."
    ),
    "VPC_FLOW_LOGS_ENABLED": "Checks that flow logs are enabled for each VPC.",
}
"""What each AWS managed rule the seeder deploys checks, by its `SourceIdentifier`."""
