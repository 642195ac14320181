"""The EKS Pod Identity agent, simulated on loopback: the container credentials endpoint of a pod.

What it stands for (EKS User Guide, "Understand how EKS Pod Identity works"; the agent's source,
aws/eks-pod-identity-agent): a pod whose ServiceAccount has a Pod Identity association gets two
variables from EKS, which the SDKs' container credential provider reads,

    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token

and the SDK asks the node's agent `GET /v1/credentials` with the projected ServiceAccount token (audience
`pods.eks.amazonaws.com`) as the `Authorization` header. The agent

- refuses a request that reached it through any address but its own: 403, `Access Denied. Called agent
  through invalid address, ...`;
- checks only that the token is there and is a JWT whose time claims hold: 400, `Service account token
  cannot be empty` / `... cannot be parsed: ...` / `... failed basic claim validations: ...`;
- asks EKS Auth (`AssumeRoleForPodIdentity`) for the association's credentials, and passes an EKS Auth
  error on with its HTTP status as `[<request ID>]: (<code>): <message>, fault: client`:
  `InvalidTokenException` (400) for a token the cluster did not issue, `ResourceNotFoundException` (404)
  when no association names the pod's namespace and ServiceAccount, `AccessDeniedException` (400);
- answers 200 with JSON `AccessKeyId`, `SecretAccessKey`, `Token`, `AccountId`, `Expiration` (RFC 3339).

EKS Auth assumes the associated role as `pods.eks.amazonaws.com`, in a session named
`eks-<cluster>-<pod>-<random UUID>` (cut to 64 characters) tagged with the cluster, namespace,
ServiceAccount and pod, all transitive (so every role the pod assumes next carries them: the role's
trust must allow sts:TagSession; the fault layer checks that).

Here the agent plays EKS Auth too: `associate` records an association, `token` issues a ServiceAccount
token (a JWT whose signature only this agent knows: EKS Auth would verify the cluster's signing key), and
the credentials are moto's, from sts:AssumeRole into the associated role with those session tags. It
listens on 127.0.0.1 only: botocore fetches a FULL_URI over plain HTTP only from a loopback address or the
agent's own (169.254.170.23, fd00:ec2::23), so a test pod points at this one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from botocore.exceptions import ClientError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HOST = "127.0.0.1"
PATH = "/v1/credentials"
AUDIENCE = "pods.eks.amazonaws.com"
DEFAULT_CLUSTER = "ptdev-cybsecops-cluster"
# What the SDK reads; EKS sets both in every container of an associated pod.
FULL_URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_FILE_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"  # noqa: S105 - a variable's name
# The session tags EKS Pod Identity adds, every one transitive (EKS User Guide, session tags).
SESSION_TAG_KEYS = (
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
)


class StsClient(Protocol):
    """What the agent needs of a boto3 STS client on the simulator."""

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        """sts:AssumeRole."""


class Simulator(Protocol):
    """What the agent needs of the simulated organization."""

    def client(self, service: str, *, region: str = ..., account_id: str | None = ...) -> Any:
        """A boto3 client on the simulator, as the hub."""


@dataclass(frozen=True, slots=True)
class Association:
    """An EKS Pod Identity association: the pods of this namespace and ServiceAccount get this role."""

    association_id: str
    namespace: str
    service_account: str
    role_arn: str


@dataclass(frozen=True, slots=True)
class _Pod:
    """Whom a token the agent issued belongs to."""

    namespace: str
    service_account: str
    pod_name: str
    pod_uid: str


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


class PodIdentityAgent:
    """The agent on 127.0.0.1 for one simulated cluster; a context manager. Thread-safe."""

    def __init__(
        self, sim: Simulator, *, cluster_name: str = DEFAULT_CLUSTER, account_id: str, region: str
    ) -> None:
        """An agent whose credentials come from `sim`; `account_id` and `region` are the cluster's."""
        self._sim = sim
        self.cluster_name = cluster_name
        self.cluster_arn = f"arn:aws:eks:{region}:{account_id}:cluster/{cluster_name}"
        self._region = region
        self._lock = threading.Lock()
        self._associations: dict[tuple[str, str], Association] = {}
        self._tokens: dict[str, _Pod] = {}
        self._signature = secrets.token_bytes(32)  # stands for the cluster's signing key
        self._requests = 0
        self._served = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port)."""
        if self._server is None:
            self._server = make_server(HOST, 0, self, threaded=True, request_handler=_QuietHandler)
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="pod-identity-agent", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>/v1/credentials`: the pod's AWS_CONTAINER_CREDENTIALS_FULL_URI."""
        if self._server is None:
            raise RuntimeError("the agent is not running; call start() first")
        return f"http://{HOST}:{self._server.server_port}{PATH}"

    @property
    def requests(self) -> int:
        """Requests received (any answer)."""
        with self._lock:
            return self._requests

    @property
    def credentials_served(self) -> int:
        """Requests answered with credentials."""
        with self._lock:
            return self._served

    def associate(self, namespace: str, service_account: str, role_arn: str) -> Association:
        """Create (or replace) the association of a namespace's ServiceAccount with a role."""
        association = Association(f"a-{uuid.uuid4().hex[:17]}", namespace, service_account, role_arn)
        with self._lock:
            self._associations[namespace, service_account] = association
        return association

    def token(
        self,
        namespace: str,
        service_account: str,
        *,
        pod_name: str = "config-report-29412345-x7k2p",
        lifetime: timedelta = timedelta(hours=24),
        audience: str = AUDIENCE,
    ) -> str:
        """A projected ServiceAccount token for a pod of this namespace and ServiceAccount (a JWT)."""
        now = datetime.now(UTC)
        pod = _Pod(namespace, service_account, pod_name, str(uuid.uuid4()))
        claims = {
            "aud": [audience],
            "iss": f"https://oidc.eks.{self._region}.amazonaws.com/id/SIMULATED",
            "sub": f"system:serviceaccount:{namespace}:{service_account}",
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "kubernetes.io": {
                "namespace": namespace,
                "pod": {"name": pod_name, "uid": pod.pod_uid},
                "serviceaccount": {"name": service_account, "uid": str(uuid.uuid4())},
            },
        }
        header = {"alg": "RS256", "kid": "simulated"}
        text = ".".join(_b64(json.dumps(part).encode()) for part in (header, claims))
        token = f"{text}.{_b64(self._signature)}"
        with self._lock:
            self._tokens[token] = pod
        return token

    def pod_environment(self, token_file: Path) -> dict[str, str]:
        """The variables EKS sets in an associated pod's containers (the token is in `token_file`)."""
        return {FULL_URI_VARIABLE: self.url, TOKEN_FILE_VARIABLE: str(token_file)}

    # --- the agent's HTTP endpoint ---------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Serve one request as the agent does."""
        with self._lock:
            self._requests += 1
        status, content_type, body = self._answer(environ)
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        if environ.get("PATH_INFO") != PATH:
            return _text("404 Not Found", "404 page not found")
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
        if host != HOST:
            return _text(
                "403 Forbidden",
                f"Access Denied. Called agent through invalid address, please use either [{HOST}] "
                f"address not {host}",
            )
        token = environ.get("HTTP_AUTHORIZATION", "")
        if not token:
            return _text("400 Bad Request", "Service account token cannot be empty")
        claims = _claims(token)
        if claims is None:
            return _text("400 Bad Request", "Service account token cannot be parsed: token is malformed")
        now = datetime.now(UTC).timestamp()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            return _text(
                "400 Bad Request",
                "Service account token failed basic claim validations: token has invalid claims: "
                "token is expired",
            )
        return self._assume_role_for_pod_identity(token, claims)

    def _assume_role_for_pod_identity(self, token: str, claims: dict[str, Any]) -> tuple[str, str, bytes]:
        # EKS Auth: the token must be the cluster's own, for its audience; the pod's association decides.
        with self._lock:
            pod = self._tokens.get(token)
            association = self._associations.get((pod.namespace, pod.service_account)) if pod else None
        if pod is None or AUDIENCE not in claims.get("aud", []):
            return _eks_auth_error(
                "400 Bad Request",
                "InvalidTokenException",
                "The specified Kubernetes service account token is invalid.",
            )
        if association is None:
            return _eks_auth_error(
                "404 Not Found",
                "ResourceNotFoundException",
                f"No Pod Identity association found for service account {pod.service_account} "
                f"in namespace {pod.namespace}",
            )
        tags = {
            "eks-cluster-arn": self.cluster_arn,
            "eks-cluster-name": self.cluster_name,
            "kubernetes-namespace": pod.namespace,
            "kubernetes-service-account": pod.service_account,
            "kubernetes-pod-name": pod.pod_name,
            "kubernetes-pod-uid": pod.pod_uid,
        }
        session_name = f"eks-{self.cluster_name}-{pod.pod_name}-{uuid.uuid4()}"[:64]
        sts: StsClient = self._sim.client("sts", region=self._region)
        try:
            answer = sts.assume_role(
                RoleArn=association.role_arn,
                RoleSessionName=session_name,
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
                TransitiveTagKeys=list(SESSION_TAG_KEYS),
            )
        except ClientError as exc:
            return _eks_auth_error("400 Bad Request", "AccessDeniedException", str(exc))
        credentials = answer["Credentials"]
        expiration: datetime = credentials["Expiration"]
        body = {
            "AccessKeyId": credentials["AccessKeyId"],
            "SecretAccessKey": credentials["SecretAccessKey"],
            "Token": credentials["SessionToken"],
            "AccountId": answer["AssumedRoleUser"]["Arn"].split(":")[4],
            "Expiration": expiration.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        with self._lock:
            self._served += 1
        return "200 OK", "application/json", json.dumps(body).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any] | None:
    """The JWT's claims, unverified (what the agent reads before EKS Auth checks the signature)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _text(status: str, message: str) -> tuple[str, str, bytes]:
    # Go's http.Error: the message and a newline, as plain text.
    return status, "text/plain; charset=utf-8", f"{message}\n".encode()


def _eks_auth_error(status: str, code: str, message: str) -> tuple[str, str, bytes]:
    return _text(status, f"[{uuid.uuid4()}]: ({code}): {message}, fault: client")
