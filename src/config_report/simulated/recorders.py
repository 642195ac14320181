"""AWS Config's configuration recorders as the API reports them since service-linked recorders (2024),
which moto 5.2.1 predates: `DescribeConfigurationRecorderStatus` and `ListConfigurationRecorders`.

An account and region holds at most one customer-managed recorder (the one `PutConfigurationRecorder`
creates, kept by moto) and any number of service-linked recorders, which an AWS service creates for
itself: Security Hub CSPM's is `AWSConfigurationRecorderForSecurityHubCSPM`, service principal
`securityhub.amazonaws.com`, recording scope `INTERNAL` (it records only what the service's controls
need, and the account is not billed for it). `Recorders` holds the service-linked ones;
`RecorderApi` answers both actions over them and the customer-managed recorder.

Faithful to the AWS Config API reference (2014-11-12):

- `DescribeConfigurationRecorderStatus` without parameters returns the customer-managed recorder only
  ("If a configuration recorder is not specified, this operation returns the status for the customer
  managed configuration recorder"): a region whose only recorder is service-linked answers an empty
  list. `ConfigurationRecorderNames`, `ServicePrincipal` or `Arn` name one recorder ("you can only
  specify one configuration recorder": more is a `ValidationException`); one that does not exist is
  `NoSuchConfigurationRecorderException`. Each status has `arn`, `name`, `recording`, `lastStatus`
  (`Pending`, `Success`, `Failure`, `NotApplicable`), `lastErrorCode` and `lastErrorMessage` after a
  failure, the start, stop and status-change times, and `servicePrincipal` for a service-linked one.
- `ListConfigurationRecorders` lists every recorder, customer-managed (`recordingScope` `PAID`) and
  service-linked (`INTERNAL`, with its `servicePrincipal`); `MaxResults` 0 to 20, `Filters` only on
  `recordingScope` (`INTERNAL`, `PAID`), `NextToken`.

Where AWS does not document behaviour, the simulator picks the plain choice, as `compliance.py` does:
the customer-managed recorder first, then the service-linked ones by name; a page of 20 when
`MaxResults` is absent or 0; the ARN `arn:aws:config:<region>:<account>:configuration-recorder/<name>/
<16 characters>`; `NoSuchConfigurationRecorderException` worded as moto words it for a name ("Cannot find
configuration recorder with the specified name '<name>'."), and alike for a service principal or ARN.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from config_report.simulated.compliance import (
    ConfigApiError,
    Params,
    Response,
    _constraint,
    _enum_constraint,
    _page,
    _with_token,
)

LIST_MAX_RESULTS = 20
RECORDING_SCOPES = ("INTERNAL", "PAID")
_FILTER_NAMES = ("recordingScope",)
# The recorder each AWS service creates for itself (AWS's names).
SERVICE_LINKED_NAMES = {"securityhub.amazonaws.com": "AWSConfigurationRecorderForSecurityHubCSPM"}
SUCCESS, FAILURE, PENDING = "Success", "Failure", "Pending"


@dataclass(frozen=True, slots=True)
class Recorder:
    """One configuration recorder of an account and region, and the status of its last recording event."""

    name: str
    arn: str
    recording: bool
    last_status: str = SUCCESS
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    status_changed_at: datetime | None = None
    error_code: str = ""
    error_message: str = ""
    service_principal: str = ""  # empty for the customer-managed recorder

    @property
    def scope(self) -> str:
        """`PAID` for the customer-managed recorder, `INTERNAL` for a service-linked one."""
        return "INTERNAL" if self.service_principal else "PAID"

    def status(self) -> Response:
        """The recorder's `ConfigurationRecorderStatus`, as AWS's JSON carries it."""
        status: Response = {"arn": self.arn, "name": self.name, "recording": self.recording}
        if self.last_status:  # a recorder never started has had no recording event
            status["lastStatus"] = self.last_status
        for key, when in (
            ("lastStartTime", self.started_at),
            ("lastStopTime", self.stopped_at),
            ("lastStatusChangeTime", self.status_changed_at),
        ):
            if when is not None:
                status[key] = when.timestamp()
        if self.error_code:
            status["lastErrorCode"] = self.error_code
            status["lastErrorMessage"] = self.error_message
        if self.service_principal:
            status["servicePrincipal"] = self.service_principal
        return status

    def summary(self) -> Response:
        """The recorder's `ConfigurationRecorderSummary`."""
        summary: Response = {"arn": self.arn, "name": self.name, "recordingScope": self.scope}
        if self.service_principal:
            summary["servicePrincipal"] = self.service_principal
        return summary


def recorder_arn(account_id: str, region: str, name: str) -> str:
    """The ARN AWS gives a recorder (its last part derived here, not drawn, so seeds repeat)."""
    suffix = hashlib.sha256(f"{account_id}/{region}/{name}".encode()).hexdigest()[:16]
    return f"arn:aws:config:{region}:{account_id}:configuration-recorder/{name}/{suffix}"


class Recorders:
    """The service-linked recorders of one account and region (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_principal: dict[str, Recorder] = {}

    def put(self, recorder: Recorder) -> None:
        """Add or replace the recorder of `recorder.service_principal`."""
        if not recorder.service_principal:
            raise ValueError("a service-linked recorder needs its service principal")
        with self._lock:
            self._by_principal[recorder.service_principal] = recorder

    def all(self) -> tuple[Recorder, ...]:
        """The service-linked recorders, by name."""
        with self._lock:
            return tuple(sorted(self._by_principal.values(), key=lambda r: r.name))


class RecorderApi:
    """The two recorder actions over one account and region's recorders (snake_case method names)."""

    ACTIONS = ("describe_configuration_recorder_status", "list_configuration_recorders")

    def __init__(self, customer_managed: Iterable[Recorder], service_linked: Iterable[Recorder]) -> None:
        self._customer = tuple(customer_managed)
        self._all = (*self._customer, *service_linked)

    def describe_configuration_recorder_status(self, params: Params) -> Response:
        """DescribeConfigurationRecorderStatus: the named recorder, or the customer-managed one."""
        names = list(params.get("ConfigurationRecorderNames") or [])
        principal = params.get("ServicePrincipal")
        arn = params.get("Arn")
        if len(names) + bool(principal) + bool(arn) > 1:
            raise ConfigApiError("ValidationException", "You can only specify one configuration recorder.")
        if names:
            found = self._one("name", names[0], lambda r: r.name == names[0])
        elif principal:
            found = self._one("service principal", principal, lambda r: r.service_principal == principal)
        elif arn:
            found = self._one("ARN", arn, lambda r: r.arn == arn)
        else:
            return {"ConfigurationRecordersStatus": [r.status() for r in self._customer]}
        return {"ConfigurationRecordersStatus": [found.status()]}

    def list_configuration_recorders(self, params: Params) -> Response:
        """ListConfigurationRecorders: every recorder's summary, `MaxResults` per page."""
        size = _max_results(params)
        scopes = _scope_filter(params)
        summaries = [r.summary() for r in self._all if scopes is None or r.scope in scopes]
        page, token = _page(summaries, params.get("NextToken"), size)
        return _with_token({"ConfigurationRecorderSummaries": page}, token)

    def _one(self, what: str, value: str, matches: Callable[[Recorder], bool]) -> Recorder:
        for recorder in self._all:
            if matches(recorder):
                return recorder
        raise ConfigApiError(
            "NoSuchConfigurationRecorderException",
            f"Cannot find configuration recorder with the specified {what} '{value}'.",
        )


def _max_results(params: Params) -> int:
    value = params.get("MaxResults")
    if value is None or value == 0:
        return LIST_MAX_RESULTS
    if not isinstance(value, int) or value < 0:
        raise _constraint("maxResults", value, "Member must have value greater than or equal to 0")
    if value > LIST_MAX_RESULTS:
        raise _constraint(
            "maxResults", value, f"Member must have value less than or equal to {LIST_MAX_RESULTS}"
        )
    return value


def _scope_filter(params: Params) -> frozenset[str] | None:
    filters = params.get("Filters") or []
    if not filters:
        return None
    scopes: set[str] = set()
    for number, item in enumerate(filters, 1):
        name = item.get("filterName")
        if name not in _FILTER_NAMES:
            raise _constraint(f"filters.{number}.member.filterName", name, _enum_constraint(_FILTER_NAMES))
        for value in item.get("filterValue") or []:
            if value not in RECORDING_SCOPES:
                raise _constraint(
                    f"filters.{number}.member.filterValue", value, _enum_constraint(RECORDING_SCOPES)
                )
            scopes.add(value)
    return frozenset(scopes)
