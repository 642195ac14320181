"""Sessions: one shared botocore `Config`, the hub's own session and the roles it assumes.

Hub credentials come from boto3's default chain, so IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE),
EKS Pod Identity (the container provider: AWS_CONTAINER_CREDENTIALS_FULL_URI +
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), environment keys and profiles all work unchanged. The chain
tries web identity before the container provider: a pod given both uses IRSA. Spoke and org sessions
are role-chained from the hub: AWS caps chained sessions at one hour, so their credentials refresh by
simply assuming the role again. A role whose account deactivated STS in the hub's region is assumed
through STS in us-east-1 instead (`RoleAssumer`), where AWS never lets an account deactivate it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import ClientError
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import create_loader
from botocore.utils import parse_timestamp

from config_report import __version__
from config_report.aws.errors import (
    EXPIRED_CODES,
    AwsError,
    describe_error,
    is_sts_region_disabled,
    translated,
)
from config_report.domain.partitions import COMMERCIAL, PARTITION_PREFIXES, partition_of
from config_report.errors import ConfigReportError
from config_report.settings import ClientConfig

DEFAULT_REGION = "us-east-1"


# Per partition, the region where AWS never lets an account deactivate STS (IAM User Guide, "AWS STS
# Regions and endpoints"). Its regional endpoint, not the global one (sts.amazonaws.com, which cannot be
# deactivated either): the global endpoint's session tokens are valid, unless the account chose
# otherwise, only in regions enabled by default, so an opt-in region would refuse them as if it were not
# enabled; a regional endpoint's tokens are valid in every region. With a custom endpoint
# (AWS_ENDPOINT_URL) botocore would also sign the global endpoint's requests for "aws-global".
_STS_ALWAYS_ACTIVE = {"aws": "us-east-1"}


def in_partition(region: str, partition: str) -> bool:
    """True when `region` belongs to `partition` (aws, aws-cn, aws-us-gov, ...); credentials never reach
    across partitions. A partition this version does not know takes the regions of none it knows."""
    own = PARTITION_PREFIXES.get(partition)
    if own is not None:
        return region.startswith(own)
    return partition_of(region) == COMMERCIAL


# Attempts of the first call (who am I?), the first included: a network fault there is reported in
# seconds, not retried for a minute. Later calls use the configured attempts, as throttling needs them.
PROBE_ATTEMPTS = 2


def client_config(settings: ClientConfig) -> Config:
    """The one botocore `Config` every client uses.

    Standard retries absorb throttling, 5xx answers, dropped connections and read timeouts (each a
    new attempt, up to `max_attempts`); the timeouts bound how long one attempt may hang.
    """
    return Config(
        retries=_attempts(settings.max_attempts),
        user_agent_extra=f"config-report/{__version__}",
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_pool_connections=settings.pool_size,
    )


def _attempts(total: int) -> dict[str, object]:
    # `total_max_attempts` counts the first try too, as CONFIG_REPORT_MAX_ATTEMPTS promises (botocore's
    # `max_attempts` key counts retries only: one more attempt than asked).
    return {"mode": "standard", "total_max_attempts": total}


def probe_config(config: Config) -> Config:
    """`config` with few attempts: for the first call, where a network fault must show at once."""
    return config.merge(Config(retries=_attempts(PROBE_ATTEMPTS)))


def hub_region() -> str:
    """The region for STS, Organizations and S3 calls: AWS_REGION, AWS_DEFAULT_REGION, or us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def region_source() -> str:
    """Where `hub_region()` came from: `AWS_REGION`, `AWS_DEFAULT_REGION`, or `default`."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return name
    return "default"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the hub is, as STS says: written to logs and the run manifest."""

    account: str
    arn: str

    @property
    def partition(self) -> str:
        """The ARN partition (aws, aws-us-gov, aws-cn) that spoke role ARNs must use."""
        return self.arn.split(":")[1] if self.arn.startswith("arn:") else "aws"


def caller_identity(sts: Any) -> Identity:
    """Ask STS who these credentials belong to."""
    answer = sts.get_caller_identity()
    return Identity(account=answer["Account"], arn=answer["Arn"])


@dataclass(frozen=True, slots=True)
class Hub:
    """The hub: who it is, its session (boto3's default chain: IRSA in EKS) and the clients all share."""

    identity: Identity
    session: Any  # boto3.Session; make clients from it on one thread, or behind a lock
    sts: Any  # boto3 clients are thread-safe
    config: Config
    region: str
    # Which link of the default chain gave the credentials (botocore's name for it: for instance
    # `assume-role-with-web-identity` for IRSA, `container-role` for EKS Pod Identity, `env`).
    credentials: str = "unknown"
    # STS in the region where AWS never deactivates it, for a role whose account deactivated STS in
    # `region`; None when the hub is already there, or its partition has no such region.
    fallback_sts: Any = None


def connect_hub(settings: ClientConfig) -> Hub:
    """Hub credentials from the default chain, proven by asking STS who they are.

    Raises `NetworkError` when AWS cannot be reached, `ConfigReportError` when the credentials are
    missing or refused.
    """
    region = hub_region()
    session = boto3.Session(region_name=region)
    config = client_config(settings)
    try:
        identity = caller_identity(session.client("sts", config=probe_config(config)))
    except AwsError as exc:
        raise translated(
            exc,
            what="asking STS who the hub is",
            otherwise=ConfigReportError(
                f"no usable hub credentials ({describe_error(exc)}); in EKS check the ServiceAccount's "
                "eks.amazonaws.com/role-arn annotation and the role's OIDC trust (IRSA), or its Pod "
                "Identity association and the role's pods.eks.amazonaws.com trust; elsewhere AWS_PROFILE "
                "or keys"
            ),
        ) from exc
    # Resolved (and cached by the session) by the call above; never its keys, only where they came from.
    method = getattr(session.get_credentials(), "method", None) or "unknown"
    return Hub(
        identity,
        session,
        session.client("sts", config=config),
        config,
        region,
        credentials=method,
        fallback_sts=_fallback_sts(session, identity.partition, region, config),
    )


def _fallback_sts(session: boto3.Session, partition: str, region: str, config: Config) -> Any:
    """STS in the partition's always-active region; None when that is `region`, or there is none."""
    always_active = _STS_ALWAYS_ACTIVE.get(partition, region)
    if always_active == region:
        return None
    return session.client("sts", region_name=always_active, config=config)


def role_arn(identity: Identity, account_id: str, role_name: str) -> str:
    """The ARN of a role in an account, in the hub's partition."""
    return f"arn:{identity.partition}:iam::{account_id}:role/{role_name}"


class _AssumedRoleProvider(CredentialProvider):  # type: ignore[misc]
    """Hands botocore refreshable credentials that are renewed by assuming the role again.

    botocore refreshes them ahead of expiry by itself (advisory and mandatory windows), so a role
    chained from IRSA credentials keeps working past its one-hour cap during a long scan.
    """

    METHOD = "config-report-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


# Renewals of expired credentials one call may ask for before its error stands.
_RENEWALS_PER_CALL = 2


class RoleAssumer:
    """Assumes one role, and again at each refresh, through the hub's STS endpoint.

    When that endpoint answers RegionDisabledException (the role's account deactivated STS in the hub's
    region), the same request goes to `fallback`, STS in the region AWS never deactivates, and every
    later refresh goes there directly: the account is read as any other, and `detour` says why.
    """

    def __init__(self, sts: Any, params: dict[str, str], *, fallback: Any = None) -> None:
        self._sts = sts
        self._fallback = fallback
        self._params = params
        self.detour = ""  # why the role is assumed through `fallback`, once it is

    def __call__(self) -> dict[str, str]:
        """New credentials for the role, in the form botocore's `refresh_using` returns."""
        if self.detour:
            return _issued(self._fallback.assume_role(**self._params))
        try:
            return _issued(self._sts.assume_role(**self._params))
        except ClientError as exc:
            if self._fallback is None or not is_sts_region_disabled(exc):
                raise
            deactivated, fallback = self._sts.meta.region_name, self._fallback.meta.region_name
        try:
            answer = self._fallback.assume_role(**self._params)
        except AwsError as exc:
            exc.add_note(f"STS is deactivated in {deactivated} for this account; retried through {fallback}")
            raise
        self.detour = (
            f"STS is deactivated in {deactivated} for this account: its role was assumed through STS in "
            f"{fallback}, where AWS never deactivates it"
        )
        return _issued(answer)


def _issued(answer: dict[str, Any]) -> dict[str, str]:
    creds = answer["Credentials"]
    return {
        "access_key": creds["AccessKeyId"],
        "secret_key": creds["SecretAccessKey"],
        "token": creds["SessionToken"],
        "expiry_time": creds["Expiration"].isoformat(),
    }


class RenewableCredentials(RefreshableCredentials):  # type: ignore[misc]
    """Refreshable credentials that can also be renewed at once, when AWS says they have expired.

    botocore refreshes only by its own clock, ahead of the `Expiration` STS returned. A node whose
    clock lags, or a session cut short, still meets `ExpiredToken`: then the call renews and retries.
    The first AssumeRole happens when they are made, so a denied role fails then (as `ClientError`).
    """

    def __init__(self, assumer: RoleAssumer, *, clock: Callable[[], datetime]) -> None:
        first = assumer()
        super().__init__(
            access_key=first["access_key"],
            secret_key=first["secret_key"],
            token=first["token"],
            expiry_time=parse_timestamp(first["expiry_time"]),
            refresh_using=assumer,
            method=_AssumedRoleProvider.METHOD,
            time_fetcher=clock,
        )
        self._assumer = assumer

    @property
    def sts_detour(self) -> str:
        """Why the role is assumed through another region's STS than the hub's; '' when it is not."""
        return self._assumer.detour

    def renew(self) -> None:
        """Assume the role again now, whatever botocore's clock says."""
        # botocore has no public way to force a refresh: its refresh lock and `_protected_refresh`
        # (what its own mandatory refresh calls) are used here, the one place that touches them.
        with self._refresh_lock:
            self._protected_refresh(is_mandatory=True)


def _renew_when_expired(credentials: RenewableCredentials) -> Callable[..., float | None]:
    """A `needs-retry` handler: an expired-token refusal renews the credentials and retries at once."""

    def needs_retry(response: Any = None, attempts: int = 0, **_: Any) -> float | None:
        if response is None or attempts > _RENEWALS_PER_CALL:
            return None
        if response[1].get("Error", {}).get("Code") not in EXPIRED_CODES:
            return None
        credentials.renew()
        return 0.0

    return needs_retry


def assumed_role_credentials(
    sts: Any,
    arn: str,
    *,
    session_name: str,
    external_id: str | None = None,
    fallback_sts: Any = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RenewableCredentials:
    """Credentials for `arn` that refresh by assuming it again; one object serves many clients.

    The first AssumeRole happens here, so a denied role fails now (as `ClientError`), not later.
    `fallback_sts` (the hub's `fallback_sts`) assumes it where STS is deactivated in the region of `sts`
    for the role's account. `clock` is what botocore compares the expiry with (tests move it forward).
    """
    params: dict[str, str] = {"RoleArn": arn, "RoleSessionName": session_name}
    if external_id:
        params["ExternalId"] = external_id
    return RenewableCredentials(RoleAssumer(sts, params, fallback=fallback_sts), clock=clock)


class ServiceModels:
    """One botocore loader shared by every spoke session, so each service model is parsed once per run.

    A new botocore session parses the endpoint, retry and service JSON again (about 10 MiB of RSS and
    a quarter of a second of CPU per account on the 2-core machine measured, see docs/benchmarks.md);
    sharing the loader makes a client cost about what a client from an existing session costs.
    The loader caches what it parsed in a dict; `warm` fills that cache on the coordinator's thread so
    scanning threads only read it.
    """

    def __init__(self) -> None:
        self.loader = create_loader()
        # botocore registers about 120 handlers on every new session, checking each by introspection
        # (~12 ms of CPU a session, more than a client costs): they are registered here once, and
        # every session gets a copy, as botocore itself copies a session's handlers for each client.
        self._handlers = HierarchicalEmitter()
        botocore.session.Session(event_hooks=self._handlers)

    def session(self, credentials: RefreshableCredentials | None = None) -> botocore.session.Session:
        """A botocore session using the shared models and these credentials (none: never the default chain).

        A botocore session is not thread-safe: use each from one thread, or behind a lock.
        """
        core = botocore.session.Session(event_hooks=copy.copy(self._handlers), include_builtin_handlers=False)
        core.register_component("data_loader", self.loader)
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=utc_timestamp)
        providers = [_AssumedRoleProvider(credentials)] if credentials is not None else []
        core.register_component("credential_provider", CredentialResolver(providers))
        if isinstance(credentials, RenewableCredentials):
            # Registered on the session, so every client made from it inherits it.
            core.register("needs-retry", _renew_when_expired(credentials))
        return core

    def warm(self, services: tuple[str, ...], *, region: str, config: Config) -> None:
        """Parse these services' models (and the endpoint data) now, before threads share the loader."""
        core = self.session()
        for service in services:
            # Making a client calls nothing; without credentials it could sign nothing anyway.
            core.create_client(service, region_name=region, config=config)


def utc_timestamp(value: str | float) -> datetime:
    """A timestamp from an AWS response, as a datetime in UTC: botocore's parser, without its local zone.

    botocore gives every timestamp a new `dateutil.tz.tzlocal`, whose offsets are worked out in Python
    each time one is read, and which pickles as an object of its own. The job only ever shows UTC, and a
    finding's date is read on every pass over the spool: in UTC it is read, pickled and restored at C
    speed (docs/benchmarks.md). The instant is the same.
    """
    if isinstance(value, int | float):  # the JSON protocols' epoch seconds
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed.astimezone(UTC)


def assume_role_session(
    sts: Any,
    arn: str,
    *,
    session_name: str,
    region: str,
    external_id: str | None = None,
    fallback_sts: Any = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> boto3.Session:
    """A boto3 session in another account whose credentials refresh by re-assuming `arn`.

    For one-off roles (the org role, `check`); the scan makes many spoke clients via `ServiceModels`.
    """
    credentials = assumed_role_credentials(
        sts, arn, session_name=session_name, external_id=external_id, fallback_sts=fallback_sts, clock=clock
    )
    return boto3.Session(botocore_session=ServiceModels().session(credentials), region_name=region)
