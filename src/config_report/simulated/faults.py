"""A WSGI middleware in front of moto that makes the simulated AWS misbehave the way real AWS does.

- `latency`: seconds added to every AWS request (each request has its own server thread, so latency
  does not serialize concurrent callers).
- `config_throttle_rate`: the fraction of AWS Config requests answered with Config's own throttling
  error (HTTP 400, `{"__type": "ThrottlingException", "message": "Rate exceeded"}`), which botocore's
  retry handler recognises and retries.
- `deny_assume_role_into`: account IDs into which sts:AssumeRole fails with STS's `AccessDenied` XML
  error (HTTP 403), as when a spoke role is missing or does not trust the hub.
- `deny_config_in`: (account ID, region) pairs where every Config call fails with
  `AccessDeniedException` (HTTP 400, JSON), as when the role's own policy forbids it there.
- `deny_config_actions_in`: (account ID, Config action) pairs where that action alone fails with
  `AccessDeniedException` (HTTP 400, JSON) in every region, as when the account's spoke role was
  deployed before the action joined its policy (`("*", action)` denies it in every account).
- `rule_faults`: (glob on the rule name, `RuleFault`) pairs: `GetComplianceDetailsByConfigRule` for a
  matching rule is denied (`AccessDeniedException`, as when an organization denies reads of
  `securityhub-*` rules), always throttled (retries run out on that one rule), or answers
  `NoSuchConfigRuleException` (the rule was deleted after it was listed; AWS deletes in the background).
- `deny_s3_put_into`: buckets (`name`) or key prefixes (`name/prefix`) where s3:PutObject fails with
  S3's `AccessDenied` XML error (HTTP 403), as when the hub role's policy or the bucket policy does not
  allow the write.
- `deny_kms_keys`: KMS key IDs/ARNs that S3 may not use for the caller: a PutObject asking for SSE-KMS
  with one of them fails with `AccessDenied` naming `kms:GenerateDataKey` (HTTP 403), as AWS answers
  when the key policy or the role's policy does not allow the key.
- `slow_region` / `slow_region_latency`: seconds added to every request to one region.
- `unavailable`: the next N Config requests fail with a 5xx burst, alternately `InternalFailure`
  (HTTP 500) and `ServiceUnavailable` (HTTP 503), the JSON protocol's common errors.
- `connection_resets`: the next N Config requests get no response at all: the connection is dropped
  (closed with a TCP reset), as when a NAT gateway or proxy loses it.
- `stalls` / `stall_seconds`: the next N Config requests are answered only after `stall_seconds`, so
  a client whose read timeout is shorter gives up first.
- `sts_unavailable`: the next N STS requests (any action) fail with STS's `ServiceUnavailable` (HTTP 503,
  XML, `Receiver`), as when the regional STS endpoint has an outage.
- `sts_throttle_rate`: the fraction of sts:AssumeRole requests answered with STS's `Throttling`
  (HTTP 400, XML "Rate exceeded"), as in an AssumeRole storm.
- `sts_disabled_in`: (account ID, region) pairs where the account has deactivated STS: sts:AssumeRole of
  a role that account owns, sent to that region's endpoint (the region of the request's signature),
  answers `RegionDisabledException` (HTTP 403, XML, `Sender`), as AWS does whoever the caller is. AWS
  never lets an account deactivate STS in us-east-1, which also serves the global endpoint
  (sts.amazonaws.com, signed for us-east-1), so the plan refuses that region.
- `credential_lifetime`: sts:AssumeRole issues credentials that expire after this many seconds (the
  `Expiration` it returns says so), and a request signed with them after that is refused as STS-issued
  credentials are: `ExpiredToken` (STS, S3), `ExpiredTokenException` (JSON APIs), `RequestExpired` (EC2).
- `expire_credentials_after`: once that many Config requests have been served, every credential
  issued so far is refused as expired from then on, though its `Expiration` was later: what a run sees
  when its node's clock lags STS's, or its sessions are cut short.
- `endless_pages_in`: (account ID, region) pairs where Config's paginated reads always answer the first
  page with the same `NextToken`, a paginator that never ends.
- `organizations_throttle_after` / `organizations_throttles`: after that many Organizations requests,
  the next N are refused with `TooManyRequestsException` (mid-listing throttling).
- `s3_put_refusals` / `s3_put_refusal`: the next N S3 PutObject requests are refused with one of
  `S3_REFUSALS` (no bucket, access denied, KMS key denied, service unavailable).

Besides faults, the layer enforces two states of the organization that live in moto's state (so that
they survive `configure`/`reset` of the faults and vanish with moto's reset), asked of `region_access`:
a region not enabled in the account (an opt-in region) answers every Config call with
`UnrecognizedClientException` "The security token included in the request is invalid." (HTTP 400),
and a region denied by a service control policy answers `AccessDeniedException` "... with an explicit
deny in a service control policy". Control Tower's region deny is such a policy with exemptions: it lets
Config through (`config:*` is in its NotAction list), so Config answers there as anywhere, while EC2
(but `ec2:DescribeRegions`) is refused with `UnauthorizedOperation` (HTTP 403).

It also enforces what moto leaves out of sts:AssumeRole: session tags. A request that passes `Tags`,
or is signed by a session holding transitive tags (passed with `TransitiveTagKeys`, and inherited by
every session assumed from it, as EKS Pod Identity's are), is refused with STS's `AccessDenied`
"... is not authorized to perform: sts:TagSession ..." (HTTP 403) unless the role's trust policy, asked
of `trust`, allows sts:TagSession (config_report.simulated.trust).

The random draws come from one `random.Random(seed)`, so a given seed yields the same sequence of
decisions; a count ("the next N") is re-armed each time `configure` sets it. `FaultCounts` says what
was injected, so a test can prove a throttle really fired; `wait_for` blocks until it has.
`operations` counts requests by operation (the benchmark compares them with the calls needed).
The requests are classified from their SigV4 `Authorization` header (service, region, access key), as
moto itself does.
"""

from __future__ import annotations

import io
import json
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from config_report.simulated.trust import refused_action

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]
# Who is calling: (access key ID, region) -> (account ID, principal ARN).
CallerResolver = Callable[[str, str], tuple[str, str]]


class RegionAccess(StrEnum):
    """Why an account cannot use a region at all (a state of the organization, not a fault)."""

    NOT_ENABLED = "NOT_ENABLED"  # an opt-in region the account has not enabled
    DENIED_BY_SCP = "DENIED_BY_SCP"  # a service control policy denies every action in the region
    # Control Tower's region deny (GRREGIONDENY): every action but those its NotAction exempts, and it
    # exempts config:*, so Config answers there (and finds no recorder).
    CONTROL_TOWER_DENY = "CONTROL_TOWER_DENY"


# The part of Control Tower's region deny exemptions (its NotAction list) the simulated services cover.
CONTROL_TOWER_EXEMPT = frozenset(
    {"config:*", "sts:*", "iam:*", "organizations:*", "kms:*", "ec2:DescribeRegions"}
)


class RuleFault(StrEnum):
    """What reading one rule's compliance details answers."""

    DENIED = "DENIED"
    THROTTLED = "THROTTLED"
    DELETED = "DELETED"


# (account ID, region) -> the region's access state, None when usable.
RegionAccessResolver = Callable[[str, str], RegionAccess | None]
# Role ARN -> its trust policy, None when there is no such role.
TrustResolver = Callable[[str], dict[str, Any] | None]
_DETAILS_ACTION = "GetComplianceDetailsByConfigRule"
# The region where AWS never lets an account deactivate STS; the global endpoint is served from it.
STS_ALWAYS_ACTIVE_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults to inject; replace it whole with `FaultLayer.configure`."""

    latency: float = 0.0
    config_throttle_rate: float = 0.0
    deny_assume_role_into: frozenset[str] = frozenset()
    deny_config_in: frozenset[tuple[str, str]] = frozenset()
    deny_config_actions_in: frozenset[tuple[str, str]] = frozenset()
    deny_s3_put_into: frozenset[str] = frozenset()
    deny_kms_keys: frozenset[str] = frozenset()
    rule_faults: frozenset[tuple[str, RuleFault]] = frozenset()
    seed: int | None = None
    slow_region: str = ""
    slow_region_latency: float = 0.0
    unavailable: int = 0
    connection_resets: int = 0
    stalls: int = 0
    stall_seconds: float = 0.0
    sts_throttle_rate: float = 0.0
    sts_unavailable: int = 0
    sts_disabled_in: frozenset[tuple[str, str]] = frozenset()
    credential_lifetime: float | None = None
    expire_credentials_after: int | None = None
    endless_pages_in: frozenset[tuple[str, str]] = frozenset()
    organizations_throttle_after: int = 0
    organizations_throttles: int = 0
    s3_put_refusals: int = 0
    s3_put_refusal: str = "ServiceUnavailable"

    def __post_init__(self) -> None:
        for name in ("latency", "slow_region_latency", "stall_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {getattr(self, name)}")
        for name in ("config_throttle_rate", "sts_throttle_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        for name in (*_COUNTED, "organizations_throttle_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be a count >= 0, got {getattr(self, name)}")
        if self.expire_credentials_after is not None and self.expire_credentials_after < 1:
            raise ValueError(
                f"expire_credentials_after must be >= 1 request, got {self.expire_credentials_after}"
            )
        if self.credential_lifetime is not None and self.credential_lifetime <= 0:
            raise ValueError(f"credential_lifetime must be > 0 seconds, got {self.credential_lifetime}")
        if any(region == STS_ALWAYS_ACTIVE_REGION for _, region in self.sts_disabled_in):
            raise ValueError(
                f"sts_disabled_in cannot hold {STS_ALWAYS_ACTIVE_REGION}: AWS never deactivates STS there"
            )
        if self.s3_put_refusal not in S3_REFUSALS:
            raise ValueError(
                f"s3_put_refusal must be one of {', '.join(S3_REFUSALS)}, got {self.s3_put_refusal}"
            )


# Faults injected a given number of times ("the next N"); `configure` re-arms the ones it sets.
_COUNTED = (
    "unavailable",
    "connection_resets",
    "stalls",
    "organizations_throttles",
    "s3_put_refusals",
    "sts_unavailable",
)
_SET_FIELDS = (
    "deny_assume_role_into",
    "sts_disabled_in",
    "deny_config_in",
    "deny_config_actions_in",
    "deny_s3_put_into",
    "deny_kms_keys",
    "endless_pages_in",
    "rule_faults",
)


@dataclass(frozen=True, slots=True)
class FaultCounts:
    """How many requests passed through the layer, and how many faults it injected."""

    requests: int = 0
    config_requests: int = 0
    throttled: int = 0
    assume_role_denied: int = 0
    config_denied: int = 0
    s3_put_denied: int = 0
    assume_role_served: int = 0
    unavailable: int = 0
    connection_resets: int = 0
    stalls: int = 0
    sts_throttled: int = 0
    sts_unavailable: int = 0
    sts_region_disabled: int = 0  # AssumeRole refused: STS deactivated in that region for the role's account
    slowed: int = 0  # requests to `slow_region` delayed by `slow_region_latency`
    expired_rejected: int = 0
    endless_pages: int = 0
    organizations_throttled: int = 0
    s3_put_refused: int = 0
    region_refused: int = 0
    rule_faults: int = 0
    tag_session_denied: int = 0  # AssumeRole with session tags into a role whose trust lacks sts:TagSession


@dataclass(frozen=True, slots=True)
class _Request:
    service: str = ""
    region: str = ""
    access_key: str = ""
    action: str = ""
    method: str = ""
    path: str = ""
    kms_key: str = ""
    body: bytes = field(default=b"", repr=False)


Responder = Callable[[StartResponse], Iterable[bytes]]


class FaultLayer:
    """The middleware: `FaultLayer(app, caller)` is itself a WSGI app. Thread-safe."""

    def __init__(
        self,
        app: WsgiApp,
        caller: CallerResolver,
        plan: FaultPlan | None = None,
        *,
        region_access: RegionAccessResolver | None = None,
        trust: TrustResolver | None = None,
    ) -> None:
        self._app = app
        self._caller = caller
        self._region_access = region_access
        self._trust = trust
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._random = random.Random(self._plan.seed)  # noqa: S311 - simulated faults, not secrets
        self._counts = FaultCounts()
        self._operations: Counter[str] = Counter()
        self._suspended = 0
        self._budget = {name: getattr(self._plan, name) for name in _COUNTED}
        self._organizations_seen = 0
        self._config_seen = 0
        self._expiry: dict[str, datetime | None] = {}  # issued access key -> when it stops being accepted
        self._served = threading.Condition(self._lock)
        self._issued_secrets: list[str] = []  # secret keys and session tokens sts:AssumeRole handed out
        self._tagged: set[str] = set()  # issued access keys whose sessions hold transitive session tags

    @property
    def plan(self) -> FaultPlan:
        """The faults currently injected."""
        with self._lock:
            return self._plan

    @property
    def counts(self) -> FaultCounts:
        """What has passed through and been injected since the last `reset`."""
        with self._lock:
            return self._counts

    @property
    def operations(self) -> dict[str, int]:
        """Requests since the last `reset` by `service:Action` (`service:METHOD` for REST calls like S3)."""
        with self._lock:
            return dict(self._operations)

    def configure(self, **changes: Any) -> FaultPlan:
        """Change some faults (`FaultPlan` fields), keep the others.

        A new `seed` restarts the random sequence; a count (`unavailable`, `stalls`, ...) is re-armed.
        """
        known = {f.name for f in fields(FaultPlan)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"unknown fault(s) {', '.join(unknown)}; FaultPlan has {', '.join(sorted(known))}"
            )
        for name in _SET_FIELDS:
            if name in changes:
                changes[name] = frozenset(changes[name])
        with self._lock:
            self._plan = replace(self._plan, **changes)
            if "seed" in changes:
                self._random = random.Random(changes["seed"])  # noqa: S311 - simulated faults, not secrets
            for name in _COUNTED:
                if name in changes:
                    self._budget[name] = changes[name]
            if "organizations_throttle_after" in changes:
                self._organizations_seen = 0
            if "expire_credentials_after" in changes:
                self._config_seen = 0
            return self._plan

    def reset(self) -> None:
        """No faults, counters at zero."""
        with self._lock:
            self._plan = FaultPlan()
            self._random = random.Random()  # noqa: S311 - simulated faults, not secrets
            self._counts = FaultCounts()
            self._operations.clear()
            self._budget = dict.fromkeys(_COUNTED, 0)
            self._organizations_seen = 0
            self._config_seen = 0
            self._expiry.clear()
            self._issued_secrets.clear()
            self._tagged.clear()

    @property
    def issued_secrets(self) -> tuple[str, ...]:
        """Every secret access key and session token sts:AssumeRole issued since the last `reset`.

        What a test scans a run's outputs for: none of them may appear in logs, reports or tickets.
        """
        with self._lock:
            return tuple(self._issued_secrets)

    def wait_for(self, condition: Callable[[FaultCounts], bool], *, timeout: float = 300.0) -> FaultCounts:
        """Block until `condition(counts)` holds (checked after each request); raises `TimeoutError`.

        How a test synchronizes with a client in another process: on what the simulator has served,
        never on sleeps. The timeout only stops a broken test from hanging.
        """
        with self._served:
            if not self._served.wait_for(lambda: condition(self._counts), timeout=timeout):
                raise TimeoutError(f"the simulator never reached the expected state; counts: {self._counts}")
            return self._counts

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Within the block, requests pass untouched and uncounted (used while seeding)."""
        with self._lock:
            self._suspended += 1
        try:
            yield
        finally:
            with self._lock:
                self._suspended -= 1

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: maybe delay it, maybe answer with a fault, else pass it to moto."""
        if environ.get("PATH_INFO", "").startswith("/moto-api") or self._is_suspended():
            return self._app(environ, start_response)
        request = _classify(environ)
        plan = self._count(request)
        slowed = bool(plan.slow_region_latency) and request.region == plan.slow_region
        delay = plan.latency + (plan.slow_region_latency if slowed else 0.0)
        if slowed:
            self._bump("slowed")
        if delay:
            time.sleep(delay)
        fault = self._fault(plan, request)
        if fault is not None:
            return fault(start_response)
        if request.service == "config" and self._take("connection_resets"):
            self._bump("connection_resets")
            _drop_connection(environ)
        if request.service == "config" and self._take("stalls"):
            self._bump("stalls")
            time.sleep(plan.stall_seconds)
        return self._pass(plan, request, environ, start_response)

    def _is_suspended(self) -> bool:
        with self._lock:
            return self._suspended > 0

    def _count(self, request: _Request) -> FaultPlan:
        with self._lock:
            self._counts = replace(
                self._counts,
                requests=self._counts.requests + 1,
                config_requests=self._counts.config_requests + (request.service == "config"),
            )
            self._operations[f"{request.service}:{request.action or request.method}"] += 1
            if request.service == "config":
                self._config_seen += 1
                after = self._plan.expire_credentials_after
                if after is not None and self._config_seen == after + 1:
                    now = datetime.now(UTC)
                    self._expiry = dict.fromkeys(self._expiry, now)
            self._served.notify_all()
            return self._plan

    def _fault(self, plan: FaultPlan, request: _Request) -> Responder | None:
        """The error answer to give instead of moto's, if any; checked in the order AWS checks."""
        if self._expired(request.access_key):
            self._bump("expired_rejected")
            return _expired_token(request.service)
        if request.service == "sts" and self._take("sts_unavailable"):
            self._bump("sts_unavailable")
            return _sts_error(
                "ServiceUnavailable", "Service is unavailable", status="503 Service Unavailable", sender=False
            )
        if request.service == "sts" and request.action == "AssumeRole":
            return self._assume_role_fault(plan, request)
        if request.service == "organizations":
            return self._organizations_fault(plan)
        if request.service == "s3":
            return self._s3_fault(plan, request)
        if request.service == "config":
            return self._config_fault(plan, request)
        if request.service == "ec2" and self._region_access is not None:
            return self._ec2_fault(request)
        return None

    def _ec2_fault(self, request: _Request) -> Responder | None:
        account_id, caller_arn = self._caller(request.access_key, request.region)
        access = self._region_access(account_id, request.region) if self._region_access else None
        if access is None or _exempt(access, f"ec2:{request.action}"):
            return None
        self._bump("region_refused")
        if access is RegionAccess.NOT_ENABLED:
            return _ec2_error("AuthFailure", "AWS was not able to validate the provided access credentials")
        return _ec2_error(
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. User: {caller_arn} is not authorized to "
            f"perform: ec2:{request.action} with an explicit deny in a service control policy",
            status="403 Forbidden",
        )

    def _assume_role_fault(self, plan: FaultPlan, request: _Request) -> Responder | None:
        role_arn = _form_value(request.body, "RoleArn")
        # Before any policy: the endpoint cannot issue credentials for that account at all.
        if (_account_of_arn(role_arn), request.region) in plan.sts_disabled_in:
            self._bump("sts_region_disabled")
            return _sts_region_disabled(_account_of_arn(role_arn))
        if plan.deny_assume_role_into and _account_of_arn(role_arn) in plan.deny_assume_role_into:
            self._bump("assume_role_denied")
            _, caller_arn = self._caller(request.access_key, request.region)
            return _sts_access_denied(caller_arn, role_arn)
        if self._trust is not None:
            carries_tags = _passes_tags(request.body) or self._holds_transitive_tags(request.access_key)
            refused = refused_action(self._trust(role_arn), carries_tags=carries_tags)
            if refused is not None:
                self._bump("tag_session_denied")
                _, caller_arn = self._caller(request.access_key, request.region)
                return _sts_access_denied(caller_arn, role_arn, action=refused)
        if plan.sts_throttle_rate and self._draw() < plan.sts_throttle_rate:
            self._bump("sts_throttled")
            return _sts_error("Throttling", "Rate exceeded")
        return None

    def _organizations_fault(self, plan: FaultPlan) -> Responder | None:
        with self._lock:
            self._organizations_seen += 1
            due = self._organizations_seen > plan.organizations_throttle_after
        if due and self._take("organizations_throttles"):
            self._bump("organizations_throttled")
            return _json_error(
                "TooManyRequestsException",
                "AWS Organizations can't complete your request because another request is already in "
                "progress. Try again later.",
            )
        return None

    def _s3_fault(self, plan: FaultPlan, request: _Request) -> Responder | None:
        bucket, _, key = request.path.lstrip("/").partition("/")
        if request.method != "PUT" or not key:
            return None
        denied = self._s3_put_denied(plan, request, bucket, key)
        if denied is not None:
            return denied
        if self._take("s3_put_refusals"):
            self._bump("s3_put_refused")
            _, caller_arn = self._caller(request.access_key, request.region)
            return _s3_refusal(plan.s3_put_refusal, request.path, caller_arn, request.region)
        return None

    def _s3_put_denied(self, plan: FaultPlan, request: _Request, bucket: str, key: str) -> Responder | None:
        _, caller_arn = self._caller(request.access_key, request.region)
        target = f"{bucket}/{key}"
        if any(bucket == d or ("/" in d and target.startswith(d)) for d in plan.deny_s3_put_into):
            self._bump("s3_put_denied")
            return _s3_refusal("AccessDenied", request.path, caller_arn, request.region)
        if request.kms_key and request.kms_key in plan.deny_kms_keys:
            self._bump("s3_put_denied")
            return _s3_kms_denied(caller_arn, request.kms_key)
        return None

    def _config_fault(self, plan: FaultPlan, request: _Request) -> Responder | None:
        if self._region_access is not None or plan.deny_config_in or plan.deny_config_actions_in:
            account_id, caller_arn = self._caller(request.access_key, request.region)
            refused = self._refused_region(account_id, request.region, caller_arn, request.action)
            if refused is not None:
                return refused
            denied_actions = plan.deny_config_actions_in
            if (account_id, request.region) in plan.deny_config_in or (
                (account_id, request.action) in denied_actions or ("*", request.action) in denied_actions
            ):
                self._bump("config_denied")
                return _config_access_denied(caller_arn, request.action)
        if plan.rule_faults and request.action == _DETAILS_ACTION:
            fault = self._rule_fault(plan, request)
            if fault is not None:
                return fault
        if self._take("unavailable"):
            self._bump("unavailable")
            # A burst alternates the two 5xx errors of the JSON protocol.
            if self.counts.unavailable % 2:
                return _json_error("InternalFailure", "Internal Failure", status="500 Internal Server Error")
            return _json_error("ServiceUnavailable", "Service Unavailable", status="503 Service Unavailable")
        if plan.config_throttle_rate and self._draw() < plan.config_throttle_rate:
            self._bump("throttled")
            return _throttled
        return None

    def _refused_region(self, account_id: str, region: str, caller_arn: str, action: str) -> Responder | None:
        access = self._region_access(account_id, region) if self._region_access else None
        if access is None or _exempt(access, f"config:{action}"):
            return None
        self._bump("region_refused")
        if access is RegionAccess.NOT_ENABLED:
            return _invalid_token
        return _scp_denied(caller_arn, action)

    def _rule_fault(self, plan: FaultPlan, request: _Request) -> Responder | None:
        try:
            rule = str(json.loads(request.body or b"{}").get("ConfigRuleName", ""))
        except ValueError:
            return None
        for pattern, kind in sorted(plan.rule_faults):
            if fnmatchcase(rule, pattern):
                self._bump("rule_faults")
                if kind is RuleFault.DENIED:
                    _, caller_arn = self._caller(request.access_key, request.region)
                    return _scp_denied(caller_arn, request.action)
                if kind is RuleFault.THROTTLED:
                    return _throttled
                return _json_error(
                    "NoSuchConfigRuleException",
                    f"The ConfigRule '{rule}' provided in the request is invalid. "
                    "Please check the configRule name",
                )
        return None

    def _pass(
        self, plan: FaultPlan, request: _Request, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Let moto answer; rewrite what the fault plan changes in the answer."""
        if request.service == "sts" and request.action == "AssumeRole":
            self._bump("assume_role_served")
            transitive = _passes_transitive_tags(request.body) or self._holds_transitive_tags(
                request.access_key
            )
            return self._issue(plan.credential_lifetime, environ, start_response, transitive=transitive)
        if (
            request.service == "config"
            and request.action in _PAGINATED_CONFIG_ACTIONS
            and plan.endless_pages_in
        ):
            account_id, _ = self._caller(request.access_key, request.region)
            if (account_id, request.region) in plan.endless_pages_in:
                self._bump("endless_pages")
                return self._endless_page(request, environ, start_response)
        return self._app(environ, start_response)

    def _issue(
        self,
        lifetime: float | None,
        environ: dict[str, Any],
        start_response: StartResponse,
        *,
        transitive: bool = False,
    ) -> Iterable[bytes]:
        # moto never refuses its credentials: the layer remembers each key it hands out, and with a
        # `lifetime` states (and enforces) that Expiration instead of moto's hour.
        status, headers, body = _capture(self._app, environ)
        text = body.decode("utf-8")
        key = re.search(r"<AccessKeyId>(.*?)</AccessKeyId>", text)
        if not status.startswith("200") or key is None:
            return _respond_raw(status, headers, body)(start_response)
        expires = None if lifetime is None else datetime.now(UTC) + timedelta(seconds=lifetime)
        secrets = re.findall(r"<(?:SecretAccessKey|SessionToken)>(.*?)</", text)
        with self._lock:
            self._expiry[key.group(1)] = expires
            self._issued_secrets.extend(secrets)
            if transitive:  # the new session inherits them, and passes them on in turn
                self._tagged.add(key.group(1))
        if expires is not None:
            stamp = expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z"
            text = re.sub(r"<Expiration>.*?</Expiration>", f"<Expiration>{stamp}</Expiration>", text)
        return _respond_raw(status, headers, text.encode("utf-8"))(start_response)

    def _endless_page(
        self, request: _Request, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        # Always the first page, always with the same NextToken: a paginator that never ends.
        params = json.loads(request.body or b"{}")
        params.pop("NextToken", None)
        _set_body(environ, json.dumps(params).encode())
        status, headers, body = _capture(self._app, environ)
        if not status.startswith("200"):
            return _respond_raw(status, headers, body)(start_response)
        answer = json.loads(body or b"{}")
        answer["NextToken"] = _ENDLESS_TOKEN
        return _respond_raw(status, headers, json.dumps(answer).encode())(start_response)

    def _holds_transitive_tags(self, access_key: str) -> bool:
        with self._lock:
            return access_key in self._tagged

    def _expired(self, access_key: str) -> bool:
        with self._lock:
            expires = self._expiry.get(access_key)
        return expires is not None and datetime.now(UTC) >= expires

    def _take(self, counted: str) -> bool:
        """Spend one of the remaining `counted` faults; False when none is left."""
        with self._lock:
            if self._budget[counted] <= 0:
                return False
            self._budget[counted] -= 1
            return True

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def _bump(self, counter: str) -> None:
        with self._lock:
            self._counts = replace(self._counts, **{counter: getattr(self._counts, counter) + 1})
            self._served.notify_all()


_ENDLESS_TOKEN = "config-report-simulated-endless-page"  # noqa: S105 - a page token, not a secret
_PAGINATED_CONFIG_ACTIONS = frozenset(
    {
        "DescribeConfigRules",
        "DescribeComplianceByConfigRule",
        "GetComplianceDetailsByConfigRule",
        "DescribeConfigRuleEvaluationStatus",
        "DescribeConformancePacks",
        "DescribeConformancePackCompliance",
    }
)
# The JSON-protocol services; STS, EC2 and S3 answer in XML.
_JSON_SERVICES = frozenset({"config", "organizations"})


def _classify(environ: dict[str, Any]) -> _Request:
    """Service, region and access key from the SigV4 credential scope; the action; the form or JSON body."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    try:
        credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        access_key, _date, region, service, _terminator = credential.split("/")
    except (IndexError, ValueError):
        return _Request()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    body = b""
    if service in ("sts", "ec2", "config"):  # query APIs: the action is in the form body; Config's JSON
        body = _read_body(environ)
    action = target.rsplit(".", 1)[-1] if target else _form_value(body, "Action")
    return _Request(
        service=service,
        region=region,
        access_key=access_key,
        action=action,
        method=environ.get("REQUEST_METHOD", ""),
        path=environ.get("PATH_INFO", ""),
        kms_key=environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID", ""),
        body=body,
    )


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put an identical stream back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _set_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _capture(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run `app` and collect its whole answer, to be rewritten before it is sent."""
    answer: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], b"".join(chunks)


def _respond_raw(status: str, headers: list[tuple[str, str]], body: bytes) -> Responder:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    return _send(status, [*kept, ("Content-Length", str(len(body)))], body)


def _drop_connection(environ: dict[str, Any]) -> None:
    """Abort the request with no response; the server closes the socket with a TCP reset."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        # SO_LINGER on, timeout 0: the server's close() sends RST instead of a graceful handshake.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Ends the exchange now: the client reads end-of-stream where its response should be, and
        # the server, reading the next request of the keep-alive connection, finds none and closes.
        connection.shutdown(socket.SHUT_RDWR)
    # werkzeug treats a ConnectionError from the app as a dropped connection: no 500 is written.
    raise ConnectionResetError("simulated connection reset")


def _form_value(body: bytes, name: str) -> str:
    values = parse_qs(body.decode("utf-8", errors="replace")).get(name, [""])
    return values[0]


def _account_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _send(status: str, headers: list[tuple[str, str]], body: bytes) -> Responder:
    def send(start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, headers)
        return [body]

    return send


def _respond(status: str, content_type: str, body: bytes, error_type: str | None = None) -> Responder:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return _send(status, headers, body)


def _json_error(error_type: str, message: str, *, status: str = "400 Bad Request") -> Responder:
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return _respond(status, "application/x-amz-json-1.1", body, error_type)


_throttled = _json_error("ThrottlingException", "Rate exceeded")


_invalid_token = _json_error(
    "UnrecognizedClientException", "The security token included in the request is invalid."
)


def _config_access_denied(caller_arn: str, action: str) -> Responder:
    return _json_error(
        "AccessDeniedException",
        f"User: {caller_arn} is not authorized to perform: config:{action} "
        f"because no identity-based policy allows the config:{action} action",
    )


def _exempt(access: RegionAccess, action: str) -> bool:
    """True when Control Tower's region deny lets `action` (service:Action) through."""
    if access is not RegionAccess.CONTROL_TOWER_DENY:
        return False
    return action in CONTROL_TOWER_EXEMPT or f"{action.split(':', 1)[0]}:*" in CONTROL_TOWER_EXEMPT


def _ec2_error(code: str, message: str, *, status: str = "400 Bad Request") -> Responder:
    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()
    return _respond(status, "text/xml", body)


def _scp_denied(caller_arn: str, action: str) -> Responder:
    return _json_error(
        "AccessDeniedException",
        f"User: {caller_arn} is not authorized to perform: config:{action} "
        "with an explicit deny in a service control policy",
    )


def _sts_error(code: str, message: str, *, status: str = "400 Bad Request", sender: bool = True) -> Responder:
    # The Query protocol's error: `Sender` for the caller's mistakes (4xx), `Receiver` for AWS's own (5xx).
    party = "Sender" if sender else "Receiver"
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>{party}</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return _respond(status, "text/xml", body)


def _passes_tags(body: bytes) -> bool:
    """True when an AssumeRole request passes session tags (`Tags.member.N.Key`)."""
    return bool(_form_value(body, "Tags.member.1.Key"))


def _passes_transitive_tags(body: bytes) -> bool:
    """True when an AssumeRole request marks some of its session tags transitive."""
    return bool(_form_value(body, "TransitiveTagKeys.member.1"))


def _sts_access_denied(caller_arn: str, role_arn: str, *, action: str = "sts:AssumeRole") -> Responder:
    message = f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}"
    return _sts_error("AccessDenied", message, status="403 Forbidden")


def _sts_region_disabled(account_id: str) -> Responder:
    message = (
        f"STS is not activated in this region for account:{account_id}. Your account administrator can "
        "activate STS in this region using the IAM Console."
    )
    return _sts_error("RegionDisabledException", message, status="403 Forbidden")


def _expired_token(service: str) -> Responder:
    """How each protocol refuses a request signed with expired STS credentials."""
    if service in _JSON_SERVICES:
        return _json_error("ExpiredTokenException", "The security token included in the request is expired")
    if service == "ec2":
        return _ec2_error("RequestExpired", "Request has expired.")
    if service == "s3":
        return _s3_error("400 Bad Request", "ExpiredToken", "The provided token has expired.")
    return _sts_error("ExpiredToken", "The security token included in the request is expired")


def _s3_error(status: str, code: str, message: str, extra: str = "") -> Responder:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{escape(message)}'
        f"</Message>{extra}<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    return _respond(status, "application/xml", body)


# What S3 answers when it refuses a PutObject, by the reason a test picks.
S3_REFUSALS = ("NoSuchBucket", "AccessDenied", "KMSAccessDenied", "ServiceUnavailable")


def _s3_refusal(kind: str, path: str, caller_arn: str, region: str) -> Responder:
    bucket = path.strip("/").split("/", 1)[0]
    if kind == "NoSuchBucket":
        return _s3_error(
            "404 Not Found",
            "NoSuchBucket",
            "The specified bucket does not exist",
            f"<BucketName>{escape(bucket)}</BucketName>",
        )
    if kind == "AccessDenied":
        resource = f"arn:aws:s3:::{path.strip('/')}"
        return _s3_error(
            "403 Forbidden",
            "AccessDenied",
            f'User: {caller_arn} is not authorized to perform: s3:PutObject on resource: "{resource}" '
            "because no identity-based policy allows the s3:PutObject action",
        )
    if kind == "KMSAccessDenied":
        account = _account_of_arn(caller_arn) or "123456789012"
        return _s3_kms_denied(
            caller_arn, f"arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-000000000000"
        )
    return _s3_error("503 Service Unavailable", "ServiceUnavailable", "Service is unable to handle request.")


def _s3_kms_denied(caller_arn: str, kms_key: str) -> Responder:
    return _s3_error(
        "403 Forbidden",
        "AccessDenied",
        f"User: {caller_arn} is not authorized to perform: kms:GenerateDataKey on resource: {kms_key} "
        "because no identity-based policy allows the kms:GenerateDataKey action",
    )
