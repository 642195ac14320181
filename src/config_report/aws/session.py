"""The AWS side: one shared botocore `Config`, hub and assumed-role sessions, and error classification.

Hub credentials come from boto3's default chain, so IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE),
environment keys and profiles all work unchanged. Spoke and org sessions are role-chained from the hub:
AWS caps chained sessions at one hour, so their credentials refresh by simply assuming the role again.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import create_loader
from botocore.utils import parse_timestamp

from config_report import __version__

DEFAULT_REGION = "us-east-1"

# Error codes AWS uses for "you may not": STS, IAM-enforced services, EC2, and SCP denials.
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "403",
    }
)


_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)

# Region name prefixes of the partitions other than `aws`; credentials never reach across partitions.
_PARTITION_PREFIXES = {
    "aws-cn": ("cn-",),
    "aws-us-gov": ("us-gov-",),
    "aws-iso": ("us-iso-",),
    "aws-iso-b": ("us-isob-",),
}


def in_partition(region: str, partition: str) -> bool:
    """True when `region` belongs to `partition` (aws, aws-cn, aws-us-gov, ...)."""
    own = _PARTITION_PREFIXES.get(partition)
    if own is not None:
        return region.startswith(own)
    return not any(
        region.startswith(prefix) for prefixes in _PARTITION_PREFIXES.values() for prefix in prefixes
    )


# Seconds to open a TCP (and TLS) connection before botocore gives up on an attempt: AWS endpoints
# answer in milliseconds, so a longer wait only hides a blocked egress path.
CONNECT_TIMEOUT = 5
# Attempts of the first call (who am I?): a network fault there is reported in seconds, not retried
# for a minute. Later calls use the configured attempts, as throttling needs them.
PROBE_ATTEMPTS = 2

NETWORK_HINT = (
    "the pod cannot reach AWS: check egress from the cluster (NAT gateway, or VPC endpoints for sts, "
    "organizations, config, s3 and kms), the chart's NetworkPolicy (networkPolicy.*), and the proxy "
    "settings (HTTPS_PROXY / NO_PROXY; a TLS-intercepting proxy needs its CA in AWS_CA_BUNDLE)"
)


# botocore's default read timeout is 60 s too; said here so it is a decision, not an accident.
DEFAULT_READ_TIMEOUT = 60.0


def client_config(
    *,
    max_attempts: int,
    pool_size: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> Config:
    """The one botocore `Config` every client uses.

    Standard retries absorb throttling, 5xx answers, dropped connections and read timeouts (each a
    new attempt, up to `max_attempts`); the timeouts bound how long one attempt may hang.
    """
    return Config(
        # `total_max_attempts` counts the first try too, as CONFIG_REPORT_MAX_ATTEMPTS promises
        # (botocore's `max_attempts` key would count retries only: one more attempt than asked).
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        user_agent_extra=f"config-report/{__version__}",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=pool_size,
    )


def probe_config(config: Config) -> Config:
    """`config` with few attempts: for the first call, where a network fault must show at once."""
    return config.merge(Config(retries={"mode": "standard", "max_attempts": PROBE_ATTEMPTS}))


def is_network_error(exc: BaseException) -> bool:
    """True when AWS was never reached or the connection broke: DNS, TCP, TLS, proxy, timeouts."""
    return isinstance(exc, BotocoreConnectionError | HTTPClientError)


def network_error(exc: BaseException, *, what: str) -> str:
    """The message for a network failure while doing `what`: the layer, the endpoint and the hint."""
    endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or "the AWS endpoint"
    return f"network error while {what}: cannot reach {endpoint} ({describe_error(exc)}); {NETWORK_HINT}"


def hub_region() -> str:
    """The region for STS, Organizations and S3 calls: AWS_REGION, AWS_DEFAULT_REGION, or us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def region_source() -> str:
    """Where `hub_region()` came from: `AWS_REGION`, `AWS_DEFAULT_REGION`, or `default`."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return name
    return "default"


def hub_session() -> boto3.Session:
    """The hub's own session from the default credential chain (IRSA web identity in EKS)."""
    return boto3.Session(region_name=hub_region())


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


# Error codes of a request signed with STS credentials that AWS no longer accepts, by protocol.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
# Renewals of expired credentials one call may ask for before its error stands.
_RENEWALS_PER_CALL = 2


class RenewableCredentials(RefreshableCredentials):  # type: ignore[misc]
    """Refreshable credentials that can also be renewed at once, when AWS says they have expired.

    botocore refreshes only by its own clock, ahead of the `Expiration` STS returned. A node whose
    clock lags, or a session cut short, still meets `ExpiredToken`: then the call renews and retries.
    """

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
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RenewableCredentials:
    """Credentials for `arn` that refresh by assuming it again; one object serves many clients.

    The first AssumeRole happens here, so a denied role fails now (as `ClientError`), not later.
    `clock` is what botocore compares the expiry with (tests move it forward).
    """

    def fetch() -> dict[str, str]:
        params: dict[str, str] = {"RoleArn": arn, "RoleSessionName": session_name}
        if external_id:
            params["ExternalId"] = external_id
        creds = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    first = fetch()
    return RenewableCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=parse_timestamp(first["expiry_time"]),
        refresh_using=fetch,
        method=_AssumedRoleProvider.METHOD,
        time_fetcher=clock,
    )


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


def assume_role_session(
    sts: Any,
    arn: str,
    *,
    session_name: str,
    region: str,
    external_id: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> boto3.Session:
    """A boto3 session in another account whose credentials refresh by re-assuming `arn`.

    For one-off roles (the org role, `check`); the scan makes many spoke clients via `ServiceModels`.
    """
    credentials = assumed_role_credentials(
        sts, arn, session_name=session_name, external_id=external_id, clock=clock
    )
    return boto3.Session(botocore_session=ServiceModels().session(credentials), region_name=region)


def is_access_denied(exc: BaseException) -> bool:
    """True for errors meaning 'not allowed' (IAM, SCP, trust policy), as opposed to faults."""
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") in _DENIED_CODES or status == 403


def describe_error(exc: BaseException, *, limit: int = 300) -> str:
    """A one-line reason for a coverage row or log line: AWS's code and message, nothing secret."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        message = error.get("Message") or ""
        # An error body botocore could not parse (an XML body on a JSON API) still has its <Message>.
        found = _XML_MESSAGE.search(message)
        text = f"{exc.operation_name}: {error.get('Code') or 'Error'}: {found.group(1) if found else message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    # A proxy or an emulator may answer with a whole HTML page: keep one short line of it.
    text = " ".join(text.split()).rstrip(": ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
