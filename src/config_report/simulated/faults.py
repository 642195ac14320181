"""A WSGI middleware in front of moto that makes the simulated AWS misbehave the way real AWS does.

- `latency`: seconds added to every AWS request (each request has its own server thread, so latency
  does not serialize concurrent callers).
- `config_throttle_rate`: the fraction of AWS Config requests answered with Config's own throttling
  error (HTTP 400, `{"__type": "ThrottlingException", "message": "Rate exceeded"}`), which botocore's
  retry handler recognises and retries.
- `deny_assume_role_into`: account IDs into which sts:AssumeRole fails with STS's `AccessDenied` XML
  error (HTTP 403), as when a spoke role is missing or does not trust the hub.
- `deny_config_in`: (account ID, region) pairs where every Config call fails with
  `AccessDeniedException` (HTTP 400, JSON), as when an SCP or the role's policy forbids it there.
- `deny_s3_put_into`: buckets (`name`) or key prefixes (`name/prefix`) where s3:PutObject fails with
  S3's `AccessDenied` XML error (HTTP 403), as when the hub role's policy or the bucket policy does not
  allow the write.
- `deny_kms_keys`: KMS key IDs/ARNs that S3 may not use for the caller: a PutObject asking for SSE-KMS
  with one of them fails with `AccessDenied` naming `kms:GenerateDataKey` (HTTP 403), as AWS answers
  when the key policy or the role's policy does not allow the key.

The random draws come from one `random.Random(seed)`, so a given seed yields the same sequence of
decisions. `FaultCounts` says what was injected, so a test can prove a throttle really fired;
`operations` counts requests by operation (the benchmark compares them with the calls needed).
The requests are classified from their SigV4 `Authorization` header (service, region, access key), as
moto itself does.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]
# Who is calling: (access key ID, region) -> (account ID, principal ARN).
CallerResolver = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Which faults to inject; replace it whole with `FaultLayer.configure`."""

    latency: float = 0.0
    config_throttle_rate: float = 0.0
    deny_assume_role_into: frozenset[str] = frozenset()
    deny_config_in: frozenset[tuple[str, str]] = frozenset()
    deny_s3_put_into: frozenset[str] = frozenset()
    deny_kms_keys: frozenset[str] = frozenset()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {self.latency}")
        if not 0.0 <= self.config_throttle_rate <= 1.0:
            raise ValueError(f"config_throttle_rate must be between 0 and 1, got {self.config_throttle_rate}")


@dataclass(frozen=True, slots=True)
class FaultCounts:
    """How many requests passed through the layer, and how many faults it injected."""

    requests: int = 0
    config_requests: int = 0
    throttled: int = 0
    assume_role_denied: int = 0
    config_denied: int = 0
    s3_put_denied: int = 0


@dataclass(frozen=True, slots=True)
class _Request:
    service: str = ""
    region: str = ""
    access_key: str = ""
    action: str = ""
    method: str = ""
    body: bytes = field(default=b"", repr=False)
    path: str = ""
    kms_key: str = ""


class FaultLayer:
    """The middleware: `FaultLayer(app, caller)` is itself a WSGI app. Thread-safe."""

    def __init__(self, app: WsgiApp, caller: CallerResolver, plan: FaultPlan | None = None) -> None:
        self._app = app
        self._caller = caller
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._random = random.Random(self._plan.seed)  # noqa: S311 - simulated faults, not secrets
        self._counts = FaultCounts()
        self._operations: Counter[str] = Counter()
        self._suspended = 0

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

    def configure(
        self,
        *,
        latency: float | None = None,
        config_throttle_rate: float | None = None,
        deny_assume_role_into: Iterable[str] | None = None,
        deny_config_in: Iterable[tuple[str, str]] | None = None,
        deny_s3_put_into: Iterable[str] | None = None,
        deny_kms_keys: Iterable[str] | None = None,
        seed: int | None = None,
    ) -> FaultPlan:
        """Change some faults, keep the others; a new `seed` restarts the random sequence."""
        with self._lock:
            changes: dict[str, Any] = {}
            if latency is not None:
                changes["latency"] = latency
            if config_throttle_rate is not None:
                changes["config_throttle_rate"] = config_throttle_rate
            if deny_assume_role_into is not None:
                changes["deny_assume_role_into"] = frozenset(deny_assume_role_into)
            if deny_config_in is not None:
                changes["deny_config_in"] = frozenset(deny_config_in)
            if deny_s3_put_into is not None:
                changes["deny_s3_put_into"] = frozenset(deny_s3_put_into)
            if deny_kms_keys is not None:
                changes["deny_kms_keys"] = frozenset(deny_kms_keys)
            if seed is not None:
                changes["seed"] = seed
                self._random = random.Random(seed)  # noqa: S311 - simulated faults, not secrets
            self._plan = replace(self._plan, **changes)
            return self._plan

    def reset(self) -> None:
        """No faults, counters at zero."""
        with self._lock:
            self._plan = FaultPlan()
            self._random = random.Random()  # noqa: S311 - simulated faults, not secrets
            self._counts = FaultCounts()
            self._operations.clear()

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
        if plan.latency:
            time.sleep(plan.latency)
        fault = self._fault(plan, request)
        if fault is not None:
            return fault(start_response)
        return self._app(environ, start_response)

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
            return self._plan

    def _fault(self, plan: FaultPlan, request: _Request) -> Callable[[StartResponse], Iterable[bytes]] | None:
        if request.service == "sts" and request.action == "AssumeRole" and plan.deny_assume_role_into:
            role_arn = _form_value(request.body, "RoleArn")
            if _account_of_arn(role_arn) in plan.deny_assume_role_into:
                self._bump("assume_role_denied")
                _, caller_arn = self._caller(request.access_key, request.region)
                return _sts_access_denied(caller_arn, role_arn)
        if request.service == "s3" and request.method == "PUT":
            return self._s3_put_fault(plan, request)
        if request.service != "config":
            return None
        if plan.deny_config_in:
            account_id, caller_arn = self._caller(request.access_key, request.region)
            if (account_id, request.region) in plan.deny_config_in:
                self._bump("config_denied")
                return _config_access_denied(caller_arn, request.action)
        if plan.config_throttle_rate and self._draw() < plan.config_throttle_rate:
            self._bump("throttled")
            return _throttled
        return None

    def _s3_put_fault(
        self, plan: FaultPlan, request: _Request
    ) -> Callable[[StartResponse], Iterable[bytes]] | None:
        bucket, _, key = request.path.lstrip("/").partition("/")
        if not key:
            return None
        _, caller_arn = self._caller(request.access_key, request.region)
        target = f"{bucket}/{key}"
        if any(bucket == d or ("/" in d and target.startswith(d)) for d in plan.deny_s3_put_into):
            self._bump("s3_put_denied")
            return _s3_access_denied(
                f"User: {caller_arn} is not authorized to perform: s3:PutObject on resource: "
                f"arn:aws:s3:::{bucket}/{key} because no identity-based policy allows the s3:PutObject action"
            )
        if request.kms_key and request.kms_key in plan.deny_kms_keys:
            self._bump("s3_put_denied")
            return _s3_access_denied(
                f"User: {caller_arn} is not authorized to perform: kms:GenerateDataKey on resource: "
                f"{request.kms_key} because no identity-based policy allows the kms:GenerateDataKey action"
            )
        return None

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def _bump(self, counter: str) -> None:
        with self._lock:
            self._counts = replace(self._counts, **{counter: getattr(self._counts, counter) + 1})


def _classify(environ: dict[str, Any]) -> _Request:
    """Service, region and access key from the SigV4 credential scope; the action; STS's form body."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    try:
        credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
        access_key, _date, region, service, _terminator = credential.split("/")
    except (IndexError, ValueError):
        return _Request()
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    body = b""
    if service in ("sts", "ec2"):  # query APIs: the action is in the form body
        body = _read_body(environ)
    action = target.rsplit(".", 1)[-1] if target else _form_value(body, "Action")
    return _Request(
        service=service,
        region=region,
        access_key=access_key,
        action=action,
        body=body,
        method=environ.get("REQUEST_METHOD", ""),
        path=environ.get("PATH_INFO", ""),
        kms_key=environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID", ""),
    )


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put an identical stream back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _form_value(body: bytes, name: str) -> str:
    values = parse_qs(body.decode("utf-8", errors="replace")).get(name, [""])
    return values[0]


def _account_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _respond(
    status: str, content_type: str, body: bytes, error_type: str | None = None
) -> Callable[[StartResponse], Iterable[bytes]]:
    def send(start_response: StartResponse) -> Iterable[bytes]:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        start_response(status, headers)
        return [body]

    return send


def _json_error(error_type: str, message: str) -> Callable[[StartResponse], Iterable[bytes]]:
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return _respond("400 Bad Request", "application/x-amz-json-1.1", body, error_type)


_throttled = _json_error("ThrottlingException", "Rate exceeded")


def _config_access_denied(caller_arn: str, action: str) -> Callable[[StartResponse], Iterable[bytes]]:
    return _json_error(
        "AccessDeniedException",
        f"User: {caller_arn} is not authorized to perform: config:{action} "
        "with an explicit deny in a service control policy",
    )


def _s3_access_denied(message: str) -> Callable[[StartResponse], Iterable[bytes]]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    return _respond("403 Forbidden", "application/xml", body)


def _sts_access_denied(caller_arn: str, role_arn: str) -> Callable[[StartResponse], Iterable[bytes]]:
    message = f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return _respond("403 Forbidden", "text/xml", body)
