"""The one translation of AWS's errors: into coverage statuses, into the project's errors, into words.

botocore raises `ClientError` when AWS answered with an error and `BotoCoreError` when it could not ask
(network, credentials, a malformed answer). Everything config-report decides about such an error is
decided here: whether it means "not allowed" (a gap that needs a fix) or a fault, whether AWS was
reached at all, which coverage status a failed region or rule gets, and the one line that describes it
in a report or a log, with nothing secret in it.
"""

from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from config_report.domain.model import CoverageStatus
from config_report.errors import ConfigReportError, NetworkError

AwsError = (ClientError, BotoCoreError)
"""What a botocore call raises, for `except AwsError`."""

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
# Error codes of a request signed with STS credentials that AWS no longer accepts, by protocol.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
_SCP_DENY = "with an explicit deny in a service control policy"
_STS_REGION_DISABLED = "RegionDisabledException"
_REGION_NOT_ENABLED_CODES = frozenset({"UnrecognizedClientException"})
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)

NETWORK_HINT = (
    "the pod cannot reach AWS: check egress from the cluster (NAT gateway, or VPC endpoints for sts, "
    "organizations, config, s3 and kms), the chart's NetworkPolicy (networkPolicy.*), and the proxy "
    "settings (HTTPS_PROXY / NO_PROXY; a TLS-intercepting proxy needs its CA in AWS_CA_BUNDLE)"
)


def error_code(exc: BaseException) -> str:
    """AWS's error code (`AccessDenied`, `NoSuchBucket`, …); '' when AWS did not answer with one."""
    return str(exc.response.get("Error", {}).get("Code") or "") if isinstance(exc, ClientError) else ""


def http_status(exc: BaseException) -> int:
    """The HTTP status of AWS's error answer; 0 when there was no answer."""
    if not isinstance(exc, ClientError):
        return 0
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_access_denied(exc: BaseException) -> bool:
    """True for errors meaning 'not allowed' (IAM, SCP, trust policy), as opposed to faults.

    STS's RegionDisabledException is a 403 as well, but it says where STS is switched off, not who may
    not: it is not a denial.
    """
    if not isinstance(exc, ClientError) or is_sts_region_disabled(exc):
        return False
    return error_code(exc) in _DENIED_CODES or http_status(exc) == 403


def is_sts_region_disabled(exc: BaseException) -> bool:
    """True when STS refused because the account that owns the role deactivated STS in the region of the
    endpoint asked (RegionDisabledException, HTTP 403): another region's endpoint may still answer."""
    return error_code(exc) == _STS_REGION_DISABLED


def is_network_error(exc: BaseException) -> bool:
    """True when AWS was never reached or the connection broke: DNS, TCP, TLS, proxy, timeouts."""
    return isinstance(exc, BotocoreConnectionError | HTTPClientError)


def failure_status(exc: BaseException) -> CoverageStatus:
    """The gap an account, a region or a rule becomes when reading it failed: denied, or an error."""
    return CoverageStatus.ACCESS_DENIED if is_access_denied(exc) else CoverageStatus.ERROR


def region_status(exc: BaseException) -> CoverageStatus:
    """The coverage status of a region whose reading failed with `exc`.

    An opt-in region the account has not enabled rejects the credentials (UnrecognizedClientException,
    "The security token included in the request is invalid."); a service control policy that denies the
    region says so in AccessDenied's message. Both are the account's state, not gaps.
    """
    if error_code(exc) in _REGION_NOT_ENABLED_CODES:
        return CoverageStatus.REGION_NOT_ENABLED
    message = str(exc.response.get("Error", {}).get("Message", "")) if isinstance(exc, ClientError) else ""
    if is_access_denied(exc) and _SCP_DENY in message:
        return CoverageStatus.DENIED_BY_SCP
    return failure_status(exc)


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
    # Notes added where the error was met (`add_note`) say what led to it, so they lead the line.
    text = ": ".join([*getattr(exc, "__notes__", ()), text])
    # A proxy or an emulator may answer with a whole HTML page: keep one short line of it.
    text = " ".join(text.split()).rstrip(": ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def network_error(exc: BaseException, *, what: str) -> str:
    """The message for a network failure while doing `what`: the layer, the endpoint and the hint."""
    endpoint = getattr(exc, "kwargs", {}).get("endpoint_url") or "the AWS endpoint"
    return f"network error while {what}: cannot reach {endpoint} ({describe_error(exc)}); {NETWORK_HINT}"


def translated(exc: BaseException, *, what: str, otherwise: ConfigReportError) -> ConfigReportError:
    """`exc` as the project's error: a network failure becomes `NetworkError` naming the endpoint (while
    doing `what`), anything else `otherwise`. Raise it `from exc`."""
    return NetworkError(network_error(exc, what=what)) if is_network_error(exc) else otherwise
