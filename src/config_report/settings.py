"""Settings: every `CONFIG_REPORT_*` environment variable, also settable by a flag.

Validation happens here, before any AWS call. A bad value raises `SettingsError` whose message names
the environment variable, the flag, what is wrong and how to fix it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config_report.errors import SettingsError

ENV_PREFIX = "CONFIG_REPORT_"
DEFAULT_SPOKE_ROLE_NAME = "system-config-report-generator-read-role"
DEFAULT_S3_PREFIX = "aws-config-reports/"

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_OU = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}|[^,]{1,128})$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ENVIRONMENT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
_TAG_KEY = re.compile(r"^[^,]{1,128}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_OBJECT = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")
_AGGREGATOR_NAME = re.compile(r"^[\w\-]{1,256}$")
Source = Literal["spokes", "aggregator"]
SOURCE_SPOKES: Source = "spokes"
SOURCE_AGGREGATOR: Source = "aggregator"

# The published outcomes a deployment may choose to tolerate, by the name used in CONFIG_REPORT_FAIL_ON.
FAIL_ON_GAPS = "gaps"  # coverage gaps: exit 3
FAIL_ON_JIRA = "jira"  # the ticket failed: exit 4
FAIL_ON_CHOICES = (FAIL_ON_GAPS, FAIL_ON_JIRA)
_FAIL_ON_NONE = "none"

CommaList = Annotated[list[str], NoDecode]
# `domain.severity.Severity`'s values (settings sit below the domain; a test keeps the two equal).
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNRATED")


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _text_map(value: str | None, example: str) -> dict[str, str]:
    """A JSON object of non-empty texts, trimmed (empty when unset); `example` shows the fix."""
    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg}); use an object like {example}") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in parsed.items()
    ):
        raise ValueError(f"must be a JSON object of non-empty texts, like {example}")
    return {k.strip(): v.strip() for k, v in parsed.items()}


def _each(values: list[str], pattern: re.Pattern[str], what: str, example: str) -> list[str]:
    bad = [v for v in values if not pattern.match(v)]
    if bad:
        raise ValueError(
            f"{', '.join(map(repr, bad))} is not {what}; use a comma-separated list like {example}"
        )
    return values


class Settings(BaseSettings):
    """What one run of config-report needs to know. Field names map to `CONFIG_REPORT_<NAME>`."""

    # An empty variable means unset: charts and shells often render optional values as "".
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    # --- the organization and the spoke accounts ---
    org_role_arn: str | None = Field(
        None, description="role assumed to list the organization's accounts (default: hub credentials)"
    )
    spoke_role_name: str = Field(DEFAULT_SPOKE_ROLE_NAME, description="role name assumed in every account")
    external_id: SecretStr | None = Field(None, description="ExternalId passed when assuming spoke roles")
    external_id_file: Path | None = Field(
        None, description="file holding the ExternalId (a mounted Secret), instead of external_id"
    )
    regions: CommaList = Field(
        default_factory=list, description="comma-separated regions to scan (default: those enabled)"
    )
    accounts: CommaList = Field(default_factory=list, description="only these account IDs (comma-separated)")
    exclude_accounts: CommaList = Field(default_factory=list, description="skip these account IDs")
    ous: CommaList = Field(
        default_factory=list, description="only accounts in these OUs (IDs or names, sub-OUs included)"
    )
    exclude_ous: CommaList = Field(default_factory=list, description="skip accounts in these OUs")
    rules: CommaList = Field(
        default_factory=list,
        description="only rules whose normalized name matches one of these globs (e.g. s3-*)",
    )
    exclude_rules: CommaList = Field(
        default_factory=list,
        description="leave out rules whose normalized name matches one of these globs (e.g. securityhub-*)",
    )
    stale_rule_days: int = Field(
        1,
        ge=0,
        le=3650,
        description="flag a periodic rule that has not run for its own frequency plus this many days",
    )
    concurrency: int = Field(16, ge=1, le=256, description="account-regions scanned at once (workers)")
    account_concurrency: int = Field(
        4, ge=1, le=64, description="regions of one account scanned at once (its API quotas)"
    )
    max_attempts: int = Field(12, ge=1, le=50, description="attempts per AWS call (throttling retries)")
    # AWS endpoints answer in milliseconds: a longer connect wait only hides a blocked egress path.
    # The read timeout is botocore's default too; set here so it is a decision, not an accident.
    connect_timeout: float = Field(
        5.0, gt=0, le=300, description="seconds to open a connection to AWS before the attempt fails"
    )
    read_timeout: float = Field(
        60.0, gt=0, le=900, description="seconds to wait for an AWS answer before the attempt fails"
    )
    upload_retry_seconds: float = Field(
        120.0,
        ge=0,
        le=3600,
        description="keep retrying a refused report upload this long, with backoff (preflight: outages only)",
    )
    # --- where compliance is read: each account's spoke role, or one AWS Config aggregator ---
    source: Source = Field(
        SOURCE_SPOKES,
        description="read compliance through each account's spoke role (spokes) or one AWS Config "
        "aggregator (aggregator)",
    )
    aggregator_name: str | None = Field(
        None, description="the configuration aggregator to read (with source aggregator, and for verify)"
    )
    aggregator_role_arn: str | None = Field(
        None, description="role assumed in the aggregator's account (default: hub credentials)"
    )
    aggregator_region: str | None = Field(
        None, description="the region the aggregator lives in (default: AWS_REGION)"
    )
    aggregator_max_age_hours: float = Field(
        24.0,
        gt=0,
        le=8760,
        description="an aggregator source last updated longer ago than this many hours is a coverage gap",
    )
    aggregator_findings: Literal["details", "query"] = Field(
        "details",
        description="non-compliant resources through one detail call per rule (details, with annotations) "
        "or advanced queries (query: far fewer calls, no annotations)",
    )
    # --- sharding (a Kubernetes Indexed Job; see config_report.app.shards) ---
    shard_count: int = Field(1, ge=1, le=1000, description="pods sharing one run (1: not sharded)")
    shard_index: int | None = Field(
        default_factory=lambda: os.environ.get("JOB_COMPLETION_INDEX"),
        ge=0,
        validate_default=True,
        description="this pod's shard, 0 to count-1 (default: JOB_COMPLETION_INDEX of an Indexed Job)",
    )
    run_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="name every shard of one run shares (the chart sets the Job's name)",
    )
    # The chart's Job may run 4 h (activeDeadlineSeconds) plus 5 min of SIGTERM grace, in which a shard
    # still writes its part: merging earlier would make a shard that is about to report a gap.
    merge_deadline_seconds: int = Field(
        16200,
        ge=1,
        le=7 * 24 * 3600,
        description="seconds after a sharded run starts when `merge --overdue` merges it as it is",
    )
    session_name: str = Field(
        "config-report",
        pattern=r"^[\w+=,.@-]{2,64}$",
        description="RoleSessionName, visible in CloudTrail (2-64 of letters, digits and +=,.@_-)",
    )

    # --- which deployment this is (ptdev, stg, prod share the organization, not their reports) ---
    environment: str | None = Field(
        None,
        description="environment name, e.g. ptdev, stg, prod: by default its own S3 prefix "
        "(aws-config-reports/<environment>/, so its own Jira ticket records) and Jira week label",
    )

    # --- where the report goes ---
    s3_bucket: str | None = Field(None, description="bucket receiving the reports")
    s3_prefix: str = Field(
        DEFAULT_S3_PREFIX,
        description="key prefix of every report (default with an environment: <prefix><env>/)",
    )
    s3_kms_key_id: str | None = Field(None, description="KMS key for SSE-KMS (default: bucket default)")
    output_dir: Path | None = Field(None, description="also keep a local copy of every published file")
    baseline: str | None = Field(
        None,
        description="compare with this snapshot (a path or s3://bucket/key) instead of the previous run's",
    )

    # --- which outcomes fail the Job (the exit codes keep their meaning; see outcome.py) ---
    fail_on: CommaList = Field(
        default_factory=lambda: list(FAIL_ON_CHOICES),
        description="published outcomes that exit non-zero: gaps (3), jira (4); others exit 0",
    )
    gap_tolerance: int = Field(
        0, ge=0, description="accounts with coverage gaps tolerated before gaps exit 3 (with fail_on gaps)"
    )

    # --- judging the findings ---
    owner_tag_keys: CommaList = Field(
        default_factory=lambda: ["Owner", "owner", "Team", "team"],
        description="tag keys naming a resource's or account's owner, first match wins",
    )
    severity_overrides: CommaList = Field(
        default_factory=list,
        description="rule severities of your own: glob on the normalized rule name=SEVERITY, comma-separated",
    )
    owner_aliases: str | None = Field(
        None,
        description='JSON object: owner tag value to its team, e.g. {"data-team-leads": "data-team"}',
    )
    exceptions_file: str | None = Field(
        None, description="YAML file of accepted exceptions: a path (mounted ConfigMap) or s3://bucket/key"
    )
    exception_request: str = Field(
        "",
        max_length=500,
        description="how to request an exception (a sentence, or an https:// link): Summary and ticket",
    )

    # --- logs ---
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="json lines, readable text, or auto (json when not a terminal)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")

    # --- Jira ---
    jira_url: str | None = Field(None, description="Jira base URL (unset: no ticket)")
    jira_project: str | None = Field(None, description="Jira project key")
    jira_issue_type: str = Field("Task", description="issue type of new tickets")
    jira_flavor: Literal["auto", "cloud", "datacenter"] = Field(
        "auto", description="Jira Cloud or Data Center (auto: ask serverInfo)"
    )
    jira_email: str | None = Field(None, description="Jira Cloud account email (unset: Data Center PAT)")
    jira_api_token: SecretStr | None = Field(None, description="Jira API token or personal access token")
    jira_api_token_file: Path | None = Field(None, description="file holding the token (a mounted Secret)")
    jira_labels: CommaList = Field(default_factory=list, description="extra labels on new tickets")
    jira_components: CommaList = Field(default_factory=list, description="components of new tickets")
    jira_priority: str | None = Field(None, description="priority name of new tickets")
    jira_assignee: str | None = Field(None, description="assignee account ID (Cloud) or user name (DC)")
    jira_extra_fields: str | None = Field(None, description="JSON object of extra fields for new tickets")
    jira_attachment_max_mb: float = Field(
        10.0, gt=0, description="attach the workbook up to this size, else link only"
    )
    jira_priority_by_severity: str | None = Field(
        None,
        description='JSON object: severity to priority name, e.g. {"CRITICAL": "Highest", "HIGH": "High"}: '
        "a new ticket's priority from its worst new finding (else jira_priority)",
    )
    jira_owner_components: str | None = Field(
        None,
        description='JSON object: owner to Jira component, e.g. {"payments-team": "Payments"}: a new ticket '
        "also gets the components of the owners of its new critical and high findings",
    )

    @field_validator(
        "regions",
        "accounts",
        "exclude_accounts",
        "ous",
        "exclude_ous",
        "rules",
        "exclude_rules",
        "jira_labels",
        "jira_components",
        "fail_on",
        "owner_tag_keys",
        "severity_overrides",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        return _each(value, _REGION, "an AWS region name", "eu-west-1,us-east-1")

    @field_validator("accounts", "exclude_accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        return _each(value, _ACCOUNT_ID, "a 12-digit account ID", "012345678901,123456789012")

    @field_validator("ous", "exclude_ous")
    @classmethod
    def _ous(cls, value: list[str]) -> list[str]:
        return _each(value, _OU, "an OU ID or name", "ou-ab12-cdef3456,Sandbox")

    @field_validator("fail_on")
    @classmethod
    def _fail_on(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in (*FAIL_ON_CHOICES, _FAIL_ON_NONE)]
        if bad:
            each, both = ", ".join(FAIL_ON_CHOICES), ",".join(FAIL_ON_CHOICES)
            raise ValueError(
                f"{', '.join(map(repr, bad))} is not an outcome; use {each}, both ({both}) or {_FAIL_ON_NONE}"
            )
        return [v for v in value if v != _FAIL_ON_NONE]

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str | None) -> str | None:
        if value is not None and not _ENVIRONMENT.match(value):
            raise ValueError(f"{value!r} is not an environment name (1-32 of a-z, 0-9 and -), e.g. prod")
        return value

    @model_validator(mode="before")
    @classmethod
    def _environment_prefix(cls, data: Any) -> Any:
        # Each environment keeps its reports and weekly ticket records apart, unless a prefix is given.
        if isinstance(data, dict) and data.get("environment") and not data.get("s3_prefix"):
            return {**data, "s3_prefix": f"{DEFAULT_S3_PREFIX}{data['environment']}/"}
        return data

    @field_validator("aggregator_name")
    @classmethod
    def _aggregator_name(cls, value: str | None) -> str | None:
        if value is not None and not _AGGREGATOR_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a configuration aggregator name (1-256 of letters, digits, _ and -)"
            )
        return value

    @field_validator("aggregator_region")
    @classmethod
    def _aggregator_region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region name; use the aggregator's, e.g. eu-west-1")
        return value

    @field_validator("org_role_arn", "aggregator_role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(f"{value!r} is not an IAM role ARN; use arn:aws:iam::<account-id>:role/<name>")
        return value

    @field_validator("spoke_role_name")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not _ROLE_NAME.match(value):
            raise ValueError(f"{value!r} is not an IAM role name (1-64 of letters, digits and +=,.@_-)")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _EXTERNAL_ID.match(value.get_secret_value()):
            raise ValueError("must be 2-1224 characters of letters, digits and +=,.@:/-")
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET.match(value) or ".." in value):
            raise ValueError(f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
        return value

    @field_validator("owner_tag_keys")
    @classmethod
    def _owner_tag_keys(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one tag key; the default is Owner,owner,Team,team")
        return _each(value, _TAG_KEY, "a tag key (1-128 characters)", "Owner,Team")

    @field_validator("exception_request")
    @classmethod
    def _exception_request(cls, value: str) -> str:
        text = value.strip()
        # A bare link becomes a clickable cell and ticket link: only https, never javascript: or http.
        if "://" in text and " " not in text and not text.startswith("https://"):
            raise ValueError(f"{text!r} is not an https:// link; give an https:// link, or a sentence")
        return text

    @field_validator("exceptions_file")
    @classmethod
    def _exceptions_file(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("s3://"):
            bucket, _, key = value.removeprefix("s3://").partition("/")
            if not _BUCKET.match(bucket) or not key:
                raise ValueError(f"{value!r} is not an S3 object URI; use s3://bucket/path/exceptions.yaml")
        return value

    @field_validator("s3_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.lstrip("/")
        return value if not value or value.endswith("/") else value + "/"

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("s3://"):
            if not _S3_OBJECT.match(value):
                raise ValueError(
                    f"{value!r} is not an S3 object URI; use s3://bucket/path/run.snapshot.json.gz"
                )
        elif not Path(value).is_file():
            raise ValueError(
                f"{value!r} is not a file; give an earlier run's .snapshot.json.gz (a path or s3://bucket/key)"
            )
        return value

    @field_validator("jira_url")
    @classmethod
    def _jira_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not a URL; use https://your-site.atlassian.net")
        return value.rstrip("/") if value else value

    @field_validator("severity_overrides")
    @classmethod
    def _severity_overrides(cls, value: list[str]) -> list[str]:
        levels = ", ".join(SEVERITIES)
        for item in value:
            pattern, _, level = item.rpartition("=")
            if not pattern.strip() or level.strip().upper() not in SEVERITIES:
                example = "custom-*=HIGH,legacy-check=LOW"
                raise ValueError(f"{item!r} is not glob=SEVERITY; use e.g. {example} (severities: {levels})")
        return value

    def severity_pairs(self) -> tuple[tuple[str, str], ...]:
        """The severity overrides as (glob, severity name) pairs, in the order given (first match wins)."""
        pairs = (item.rpartition("=") for item in self.severity_overrides)
        return tuple((pattern.strip(), level.strip().upper()) for pattern, _, level in pairs)

    @field_validator("owner_aliases")
    @classmethod
    def _owner_aliases(cls, value: str | None) -> str | None:
        _text_map(value, '{"data-team-leads": "data-team"}')
        return value

    def owner_alias_map(self) -> dict[str, str]:
        """Owner tag value → the team it names (`owner_aliases`); empty when none are set."""
        return _text_map(self.owner_aliases, "")

    @field_validator("jira_owner_components")
    @classmethod
    def _jira_owner_components(cls, value: str | None) -> str | None:
        _text_map(value, '{"payments-team": "Payments"}')
        return value

    @field_validator("jira_priority_by_severity")
    @classmethod
    def _jira_priority_by_severity(cls, value: str | None) -> str | None:
        example = '{"CRITICAL": "Highest", "HIGH": "High"}'
        unknown = [k for k in _text_map(value, example) if k.upper() not in SEVERITIES]
        if unknown:
            raise ValueError(
                f"{', '.join(map(repr, unknown))} is not a severity; use {', '.join(SEVERITIES)} as keys, "
                f"like {example}"
            )
        return value

    @field_validator("jira_extra_fields")
    @classmethod
    def _extra_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            example = '{"customfield_10010": 3}'
            raise ValueError(f"is not valid JSON ({exc.msg}); use an object like {example}") from None
        if not isinstance(parsed, dict):
            raise ValueError('must be a JSON object like {"customfield_10010": 3}')
        return value

    @model_validator(mode="after")
    def _shard_in_range(self) -> Settings:
        if self.shard_count > 1 and self.shard_index is not None and self.shard_index >= self.shard_count:
            raise ValueError(
                f"CONFIG_REPORT_SHARD_INDEX {self.shard_index} is not below CONFIG_REPORT_SHARD_COUNT "
                f"{self.shard_count}; shards count from 0 (an Indexed Job's completions equal the count)"
            )
        return self

    @model_validator(mode="after")
    def _aggregator_named(self) -> Settings:
        if self.source == SOURCE_AGGREGATOR and not self.aggregator_name:
            raise ValueError(
                "CONFIG_REPORT_SOURCE is aggregator but CONFIG_REPORT_AGGREGATOR_NAME is not set; set the "
                "aggregator's name (`aws configservice describe-configuration-aggregators` in its account)"
            )
        return self

    @model_validator(mode="after")
    def _one_external_id(self) -> Settings:
        if self.external_id is not None and self.external_id_file is not None:
            raise ValueError(
                "CONFIG_REPORT_EXTERNAL_ID and CONFIG_REPORT_EXTERNAL_ID_FILE are both set; keep one "
                "(the file: a mounted Secret)"
            )
        return self

    @model_validator(mode="after")
    def _jira_complete(self) -> Settings:
        if self.jira_url and not self.jira_project:
            raise ValueError(
                "CONFIG_REPORT_JIRA_URL is set but CONFIG_REPORT_JIRA_PROJECT is not; set the project key"
            )
        if self.jira_url and not (self.jira_api_token or self.jira_api_token_file):
            raise ValueError(
                "CONFIG_REPORT_JIRA_URL is set but no token; set CONFIG_REPORT_JIRA_API_TOKEN_FILE "
                "(a mounted Secret) or CONFIG_REPORT_JIRA_API_TOKEN"
            )
        return self

    def client_config(self) -> ClientConfig:
        """How every AWS client behaves: attempts per call, timeouts, connections."""
        return ClientConfig(
            max_attempts=self.max_attempts,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            pool_size=max(10, self.concurrency),
        )

    def scan_config(self) -> ScanConfig:
        """What the readers of AWS need: the roles, the scope, the rules and how hard to push.

        Reads the ExternalId file when one is set: raises `SettingsError` when it cannot be read or
        holds no ExternalId, so build it before any AWS call.
        """
        return ScanConfig(
            org_role_arn=self.org_role_arn,
            spoke_role_name=self.spoke_role_name,
            session_name=self.session_name,
            external_id=self._external_id_value(),
            regions=tuple(self.regions),
            accounts=frozenset(self.accounts),
            exclude_accounts=frozenset(self.exclude_accounts),
            ous=frozenset(self.ous),
            exclude_ous=frozenset(self.exclude_ous),
            rules=tuple(self.rules),
            exclude_rules=tuple(self.exclude_rules),
            stale_margin=timedelta(days=self.stale_rule_days),
            concurrency=self.concurrency,
            account_concurrency=self.account_concurrency,
            owner_tag_keys=tuple(self.owner_tag_keys),
        )

    def _external_id_value(self) -> str | None:
        """The ExternalId, read from the mounted file when one is set (as the Jira token is); never logged."""
        path = self.external_id_file
        if path is None:
            return self.external_id.get_secret_value() if self.external_id else None
        setting = f"{env_name('external_id_file')} ({flag_name('external_id_file')})"
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(
                f"{setting}: cannot read {path} ({exc.strerror}); mount the Secret there or fix the path"
            ) from exc
        if not _EXTERNAL_ID.match(value):
            # The value itself is never repeated: it is meant to be secret.
            raise SettingsError(
                f"{setting}: {path} does not hold an ExternalId (2-1224 characters of letters, digits "
                "and +=,.@:/-); check the Secret's key and value"
            )
        return value

    def aggregator_config(self) -> AggregatorConfig | None:
        """The configuration aggregator to read; None when no aggregator is named."""
        if self.aggregator_name is None:
            return None
        return AggregatorConfig(
            name=self.aggregator_name,
            role_arn=self.aggregator_role_arn,
            region=self.aggregator_region,
            max_source_age=timedelta(hours=self.aggregator_max_age_hours),
            findings=self.aggregator_findings,
        )

    def bucket_config(self) -> BucketConfig:
        """Where the reports go and how hard a refused upload is retried."""
        return BucketConfig(
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            kms_key_id=self.s3_kms_key_id,
            upload_retry_seconds=self.upload_retry_seconds,
        )

    def jira_config(self) -> JiraConfig | None:
        """The weekly ticket's settings; None when no Jira is configured."""
        if self.jira_url is None or self.jira_project is None:
            return None
        return JiraConfig(
            url=self.jira_url,
            project=self.jira_project,
            issue_type=self.jira_issue_type,
            flavor=self.jira_flavor,
            email=self.jira_email,
            api_token=self.jira_api_token,
            api_token_file=self.jira_api_token_file,
            labels=tuple(self.jira_labels),
            components=tuple(self.jira_components),
            priority=self.jira_priority,
            assignee=self.jira_assignee,
            extra_fields=json.loads(self.jira_extra_fields) if self.jira_extra_fields else {},
            attachment_max_mb=self.jira_attachment_max_mb,
            environment=self.environment,
            priority_by_severity={
                k.upper(): v for k, v in _text_map(self.jira_priority_by_severity, "").items()
            },
            owner_components=_text_map(self.jira_owner_components, ""),
        )

    def outcome_policy(self) -> OutcomePolicy:
        """Which published-but-imperfect outcomes fail the Job."""
        return OutcomePolicy(fail_on=frozenset(self.fail_on), gap_tolerance=self.gap_tolerance)

    @property
    def jira_enabled(self) -> bool:
        """True when a Jira URL is configured (the other Jira settings are then validated)."""
        return self.jira_url is not None

    def public_view(self) -> dict[str, object]:
        """Settings as logged and written to the manifest: secrets replaced by whether they are set."""
        view: dict[str, object] = {}
        for name, value in self.model_dump(mode="json").items():
            if name in ("external_id", "jira_api_token"):
                view[name] = "***" if value else None
            else:
                view[name] = value
        return view


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How every botocore client behaves (`aws.session.client_config` turns it into botocore's `Config`)."""

    max_attempts: int  # per call, the first included
    connect_timeout: float
    read_timeout: float
    pool_size: int  # connections per client: the scan's workers share the hub's clients


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """What the readers of AWS need from the settings."""

    org_role_arn: str | None
    spoke_role_name: str
    session_name: str
    external_id: str | None
    regions: tuple[str, ...]  # empty: the regions enabled in each account
    accounts: frozenset[str]
    exclude_accounts: frozenset[str]
    ous: frozenset[str]
    exclude_ous: frozenset[str]
    rules: tuple[str, ...]  # globs on the normalized rule name
    exclude_rules: tuple[str, ...]
    stale_margin: timedelta  # how late a periodic rule may be beyond its own frequency
    concurrency: int
    account_concurrency: int
    owner_tag_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AggregatorConfig:
    """The AWS Config aggregator the aggregator source reads, and how far its sources may lag."""

    name: str
    role_arn: str | None  # None: the hub's own credentials read it
    region: str | None  # None: the hub's region
    max_source_age: timedelta  # a source last updated longer ago is a coverage gap
    findings: Literal["details", "query"]  # one detail call per rule, or advanced queries


@dataclass(frozen=True, slots=True)
class BucketConfig:
    """The report bucket: where the reports go, encrypted how, and how long a refused upload is retried."""

    bucket: str | None
    prefix: str
    kms_key_id: str | None
    upload_retry_seconds: float


@dataclass(frozen=True, slots=True)
class JiraConfig:
    """The weekly ticket: which Jira, which project, what a new ticket carries."""

    url: str
    project: str
    issue_type: str
    flavor: Literal["auto", "cloud", "datacenter"]
    email: str | None
    api_token: SecretStr | None
    api_token_file: Path | None
    labels: tuple[str, ...]
    components: tuple[str, ...]
    priority: str | None
    assignee: str | None
    extra_fields: dict[str, object]
    attachment_max_mb: float
    environment: str | None
    # Severity name (`SEVERITIES`) → priority name; owner → component name. Empty: not used.
    priority_by_severity: Mapping[str, str] = field(default_factory=dict)
    owner_components: Mapping[str, str] = field(default_factory=dict)

    def token(self) -> str:
        """The Jira token, read from the mounted file when one is set; never logged."""
        if self.api_token_file is not None:
            try:
                return self.api_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"{ENV_PREFIX}JIRA_API_TOKEN_FILE: cannot read {self.api_token_file} "
                    f"({exc.strerror}); mount the Secret there or fix the path"
                ) from exc
        return self.api_token.get_secret_value() if self.api_token else ""


@dataclass(frozen=True, slots=True)
class OutcomePolicy:
    """Which published outcomes exit non-zero (`FAIL_ON_CHOICES`), and how many gap accounts are fine."""

    fail_on: frozenset[str]
    gap_tolerance: int


def env_name(field: str) -> str:
    """The environment variable behind a settings field."""
    return ENV_PREFIX + field.upper()


def flag_name(field: str) -> str:
    """The command-line flag behind a settings field."""
    return "--" + field.replace("_", "-")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read settings from the environment, flags (`overrides`) winning; raise `SettingsError` if invalid."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:
            field = str(error["loc"][0])
            lines.append(f"  {env_name(field)} ({flag_name(field)}): {message}")
        else:
            lines.append(f"  {message}")
    return "\n".join(lines)
