"""Every use of moto's internals, in one place, for the pinned moto 5.2.1.

The rest of the simulated organization talks to moto over HTTP with boto3, like any AWS client. Only
what moto has no API for lives here; when moto is upgraded, this is the one file to re-check:

1. Config's compliance, conformance pack and recorder actions are taught to moto's `ConfigResponse`
   (`install_compliance_apis`; moto's recorder status predates service-linked recorders), so moto
   itself resolves the caller's account (from the access key, including keys returned by
   sts:AssumeRole) and region (from the request signature) before our code answers.
2. Evaluation results, conformance packs, service-linked recorders and the resource inventory
   (configuration items with tags, read by our `SelectResourceConfig`) live on moto's own
   per-account, per-region `ConfigBackend` object, so moto's reset (`POST /moto-api/reset`)
   discards them along with everything else.
3. Organizations has no API to choose a new account's ID; `chosen_account_id` makes moto's ID generator
   return the one we want (deterministic IDs, one with a leading zero), and `rename_account` names the
   management account, which moto always calls "master".
4. The fault layer asks who the caller is (`caller_identity`) to deny Config per account and region,
   whether the account may use a region at all (`region_access`: opt-in regions not enabled,
   regions denied by a service control policy), which is kept on moto's per-region backend, and what
   a role's trust policy says (`role_trust`), which moto keeps but checks nowhere across accounts.
5. The seeder sets up Config (recorder, delivery channel, rules) on moto's backend objects directly
   (`enable_config`), through the same methods moto's HTTP handlers call: one HTTP round trip costs
   about 7 ms in moto, and a demo organization needs some 1,500 of them (12 s instead of 2 s).
   What PutConfigRule refuses to set but AWS reports (`ConfigRuleState` other than ACTIVE,
   `CreatedBy` of service-linked rules, `EvaluationModes`, which moto does not know) is set on the
   rule object (`set_rule_fields`); moto's `DescribeConfigRules` serializes every attribute it holds.
6. Configuration aggregators are moto's own (`PutConfigurationAggregator`); what it lacks (the source
   statuses and the aggregated compliance, `simulated/aggregator.py`) reads the sources' compliance
   stores, rules, recorders and inventory, with the simulation's own state of each aggregator
   (`Aggregation`: a failed source, a lagging one) kept on moto's aggregator object.
7. moto checks an S3 request's signature (when IAM is enforced) over a decoded query string, so any
   listing under a prefix with a `/` failed with SignatureDoesNotMatch where AWS answers it; the
   query is encoded again, as the client signed it (`sign_s3_queries_as_sent`).
8. moto finds the account of a request's access key by trying every account it knows, on every
   request; the account found is remembered (`index_access_keys`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError
from moto.iam import models as iam_models
from moto.iam.access_control import S3IAMRequest
from moto.iam.exceptions import NotFoundException as IamNotFound
from moto.iam.models import iam_backends
from moto.organizations import utils as organizations_utils
from moto.organizations.models import organizations_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import PARTITION_NAMES

from config_report.simulated.aggregator import Aggregation, AggregatorApi, Source
from config_report.simulated.compliance import (
    ComplianceApi,
    ComplianceStore,
    ConfigApiError,
    Evaluation,
    RuleInfo,
)
from config_report.simulated.faults import RegionAccess
from config_report.simulated.inventory import ConfigurationItem, Inventory, InventoryApi
from config_report.simulated.packs import ConformancePackApi, ConformancePacks
from config_report.simulated.recorders import (
    FAILURE,
    PENDING,
    SUCCESS,
    Recorder,
    RecorderApi,
    Recorders,
    recorder_arn,
)

_STORE_ATTRIBUTE = "_config_report_compliance_store"
_REGION_ACCESS_ATTRIBUTE = "_config_report_region_access"
_INVENTORY_ATTRIBUTE = "_config_report_inventory"
_PACKS_ATTRIBUTE = "_config_report_conformance_packs"
_RECORDERS_ATTRIBUTE = "_config_report_service_linked_recorders"
_AGGREGATION_ATTRIBUTE = "_config_report_aggregation"
_DELETING = frozenset({"DELETING", "DELETING_RESULTS"})
# moto writes a recorder's last status in capitals; AWS's enum is `Pending`, `Success`, `Failure`.
_AWS_STATUS = {"PENDING": PENDING, "SUCCESS": SUCCESS, "FAILURE": FAILURE}
_PARTITION = "aws"
_lock = threading.Lock()
_search_every_account = iam_models.get_account_id_from
_account_of_key: dict[str, str] = {}


def install_compliance_apis() -> None:
    """Add the compliance actions to moto's Config endpoint (idempotent; replaces moto's PutEvaluations).

    moto dispatches a Config request by looking up a method named after the `X-Amz-Target` action on
    `ConfigResponse`; adding methods is therefore all it takes.
    """
    for action in ComplianceApi.ACTIONS:
        setattr(ConfigResponse, action, _handler(action, compliance_api))
    for action in ConformancePackApi.ACTIONS:
        setattr(ConfigResponse, action, _handler(action, conformance_pack_api))
    # moto's own status call predates service-linked recorders; ours knows them (simulated/recorders.py).
    for action in RecorderApi.ACTIONS:
        setattr(ConfigResponse, action, _handler(action, recorder_api))
    for action in AggregatorApi.ACTIONS:
        setattr(ConfigResponse, action, _handler(action, aggregator_api))
    # moto's own SelectResourceConfig only replays canned answers, and its ListDiscoveredResources knows
    # only moto's own resources; ours read the inventory.
    for action in InventoryApi.ACTIONS:
        setattr(ConfigResponse, action, _handler(action, inventory_api))


def _handler(action: str, api_for: Callable[[str, str], object]) -> Callable[[ConfigResponse], str]:
    def handle(self: ConfigResponse) -> str:
        api = api_for(self.current_account, self.region)
        params = json.loads(self.body or b"{}")
        try:
            response = getattr(api, action)(params)
        except ConfigApiError as exc:
            raise JsonRESTError(exc.code, exc.message) from exc
        return json.dumps(response)

    handle.__name__ = action
    return handle


_T = TypeVar("_T")


def inventory(account_id: str, region: str) -> Inventory:
    """The current configuration items of one account and region (created on first use)."""
    return _attached(account_id, region, _INVENTORY_ATTRIBUTE, Inventory)


def inventory_api(account_id: str, region: str) -> InventoryApi:
    """The inventory reads of one account and region; a region without any recorder discovers nothing."""
    recording = bool(config_backends[account_id][region].recorders) or bool(
        service_linked_recorders(account_id, region).all()
    )
    return InventoryApi(inventory(account_id, region), account_id, region, recording=recording)


def _attached(account_id: str, region: str, attribute: str, kind: type[_T]) -> _T:
    # Our state lives on moto's own Config backend, so moto's reset clears it with everything else.
    backend = config_backends[account_id][region]
    with _lock:
        found = backend.__dict__.get(attribute)
        if found is None:
            found = kind()
            setattr(backend, attribute, found)
    assert isinstance(found, kind)
    return found


def sign_s3_queries_as_sent() -> None:
    """Make moto's S3 signature check see the query string encoded, as botocore signed it (idempotent)."""
    if getattr(S3IAMRequest._create_aws_request, "_config_report", False):
        return
    original = S3IAMRequest._create_aws_request

    def create_aws_request(self: S3IAMRequest) -> Any:
        path, separator, query = self._path.partition("?")
        if separator:
            pairs = parse_qsl(query, keep_blank_values=True)
            self._path = f"{path}?{urlencode(pairs, quote_via=quote, safe='-_.~')}"
        return original(self)

    create_aws_request._config_report = True  # type: ignore[attr-defined]
    S3IAMRequest._create_aws_request = create_aws_request  # type: ignore[method-assign,assignment]


def compliance_store(account_id: str, region: str) -> ComplianceStore:
    """The evaluation results of one account and region (created on first use)."""
    return _attached(account_id, region, _STORE_ATTRIBUTE, ComplianceStore)


def compliance_api(account_id: str, region: str) -> ComplianceApi:
    """The compliance actions over the rules moto holds for one account and region."""
    backend = config_backends[account_id][region]
    rules = [
        RuleInfo(
            name=str(rule.config_rule_name),
            arn=rule.config_rule_arn,
            rule_id=rule.config_rule_id,
            activated_at=datetime.fromtimestamp(rule.last_updated_time, UTC),
        )
        for rule in list(backend.config_rules.values())
    ]
    return ComplianceApi(compliance_store(account_id, region), rules)


def conformance_packs(account_id: str, region: str) -> ConformancePacks:
    """The conformance packs deployed in one account and region (created on first use)."""
    return _attached(account_id, region, _PACKS_ATTRIBUTE, ConformancePacks)


def conformance_pack_api(account_id: str, region: str) -> ConformancePackApi:
    """The conformance pack actions over one account and region's packs and evaluations."""
    return ConformancePackApi(
        conformance_packs(account_id, region),
        compliance_store(account_id, region),
        account_id=account_id,
        region=region,
    )


@contextmanager
def chosen_account_id(account_id: str) -> Iterator[None]:
    """Within the block, the next account that Organizations creates gets `account_id`.

    moto's `FakeAccount` draws its ID from `moto.organizations.utils.make_random_account_id`; the
    generator is swapped for the duration of one CreateAccount call. Not safe against concurrent
    CreateAccount calls, which the seeder never makes.
    """
    original = organizations_utils.make_random_account_id
    organizations_utils.make_random_account_id = lambda: account_id
    try:
        yield
    finally:
        organizations_utils.make_random_account_id = original


def enable_config(
    account_id: str, region: str, *, recorder: dict[str, Any] | None, rules: list[dict[str, Any]]
) -> None:
    """Record with `recorder`, deliver to a bucket, and add `rules` (PutConfigRule shapes) in one region.

    With `recorder` None, only the rules are added (a region where a service-linked recorder records).
    """
    backend = config_backends[account_id][region]
    if recorder is not None:
        backend.put_configuration_recorder(recorder)
        backend.put_delivery_channel({"name": "default", "s3BucketName": "acme-config-delivery"})
        backend.start_configuration_recorder(recorder["name"])
        # A recorder that has delivered since it started: AWS reports its last recording event's success.
        backend.recorders[recorder["name"]].status.last_status = SUCCESS
    for rule in rules:
        backend.put_config_rule(rule)


def stop_recorder(account_id: str, region: str) -> None:
    """Stop the region's configuration recorder (its rules and results stay, and go stale)."""
    config_backends[account_id][region].stop_configuration_recorder("default")


def fail_recorder(account_id: str, region: str, *, error_code: str, error_message: str, at: datetime) -> None:
    """The region's recorder still records, but its last recording event failed (its results go stale)."""
    status = config_backends[account_id][region].recorders["default"].status
    status.last_status = FAILURE
    status.last_error_code = error_code
    status.last_error_message = error_message
    status.last_status_change_time = int(at.timestamp())


def service_linked_recorders(account_id: str, region: str) -> Recorders:
    """The service-linked recorders of one account and region (created on first use)."""
    return _attached(account_id, region, _RECORDERS_ATTRIBUTE, Recorders)


def recorder_api(account_id: str, region: str) -> RecorderApi:
    """The recorder actions over moto's customer-managed recorder and the service-linked ones."""
    backend = config_backends[account_id][region]
    customer = [
        Recorder(
            name=str(recorder.name),
            arn=recorder_arn(account_id, region, str(recorder.name)),
            recording=bool(recorder.status.recording),
            last_status=_AWS_STATUS.get(recorder.status.last_status or "", recorder.status.last_status or ""),
            started_at=_moment(recorder.status.last_start_time),
            stopped_at=_moment(recorder.status.last_stop_time),
            status_changed_at=_moment(recorder.status.last_status_change_time),
            error_code=recorder.status.last_error_code or "",
            error_message=recorder.status.last_error_message or "",
        )
        for recorder in list(backend.recorders.values())
    ]
    return RecorderApi(customer, service_linked_recorders(account_id, region).all())


def _moment(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def set_rule_fields(account_id: str, region: str, rule_name: str, **fields: Any) -> None:
    """Set attributes of a rule that PutConfigRule will not (snake_case: `config_rule_state`, ...)."""
    rule = config_backends[account_id][region].config_rules[rule_name]
    for name, value in fields.items():
        setattr(rule, name, value)


def set_region_access(account_id: str, region: str, access: RegionAccess) -> None:
    """Make a region unusable for an account: not enabled (opt-in), or denied by an SCP."""
    setattr(config_backends[account_id][region], _REGION_ACCESS_ATTRIBUTE, access)


def region_access(account_id: str, region: str) -> RegionAccess | None:
    """Whether the account may use the region (None: it may), for the fault layer."""
    backends = config_backends.get(account_id)
    if backends is None or region not in backends.regions:
        return None
    access = config_backends[account_id][region].__dict__.get(_REGION_ACCESS_ATTRIBUTE)
    return access if isinstance(access, RegionAccess) else None


def rename_account(management_account_id: str, account_id: str, name: str) -> None:
    """Give an organization's account a new name (moto names the management account "master")."""
    backend = organizations_backends[management_account_id][_PARTITION]
    backend.get_account_by_id(account_id).name = name


def role_trust(role_arn: str) -> dict[str, Any] | None:
    """The trust policy of the role `role_arn` as moto stores it; None when there is no such role."""
    try:
        account_id = role_arn.split(":")[4]
        role = iam_backends[account_id][_PARTITION].get_role_by_arn(role_arn)
    except (IndexError, KeyError, IamNotFound):
        return None
    document = json.loads(role.assume_role_policy_document or "{}")
    return document if isinstance(document, dict) else None


def index_access_keys() -> None:
    """Make moto find an access key's account by index instead of by trying every account (idempotent).

    moto's `get_account_id_from` looks in each account's IAM backend, in every partition, on every
    request, and each request asks twice (moto, then the fault layer): at 1,000 accounts that search
    was 45 % of the simulator's CPU, a cost AWS does not have and that slowed every benchmark as the
    organization grew. A key never moves to another account, so the account found is remembered;
    it is checked to still hold the key, so a deleted key or moto's reset falls back to the search.
    """
    iam_models.get_account_id_from = account_id_from


def account_id_from(access_key: str) -> str:
    """The account moto attributes an access key to (its default account for unknown keys)."""
    known = _account_of_key.get(access_key)
    if known is not None and _holds_key(known, access_key):
        return known
    found: str = _search_every_account(access_key)
    if _holds_key(found, access_key):
        _account_of_key[access_key] = found
    else:
        _account_of_key.pop(access_key, None)
    return found


def _holds_key(account_id: str, access_key_id: str) -> bool:
    account = iam_backends[account_id]
    return any(access_key_id in account[partition].access_keys for partition in PARTITION_NAMES)


def caller_identity(access_key_id: str, region: str) -> tuple[str, str]:
    """The account ID and ARN moto attributes to an access key (the hub's for unknown keys)."""
    account_id = account_id_from(access_key_id)
    _, arn, account_id = sts_backends[account_id][_PARTITION].get_caller_identity(access_key_id, region)
    return str(account_id), str(arn)


# --- configuration aggregators (simulated/aggregator.py) ------------------------------------------


def aggregator_api(account_id: str, region: str) -> AggregatorApi:
    """The aggregator actions over the aggregators moto holds in one account and region."""
    backend = config_backends[account_id][region]

    def lookup(name: str) -> tuple[Aggregation, _AggregatedSources] | None:
        aggregator = backend.config_aggregators.get(name)
        if aggregator is None:
            return None
        state = _aggregation_of(aggregator)
        return state, _AggregatedSources(account_id, aggregator, state)

    return AggregatorApi(lookup)


def attach_aggregation(account_id: str, region: str, name: str, state: Aggregation) -> Aggregation:
    """Give the aggregator `name` (created with PutConfigurationAggregator) its simulated state."""
    setattr(config_backends[account_id][region].config_aggregators[name], _AGGREGATION_ATTRIBUTE, state)
    return state


def aggregation(account_id: str, region: str, name: str) -> Aggregation:
    """The simulated state of the aggregator `name` (KeyError when moto holds no such aggregator)."""
    return _aggregation_of(config_backends[account_id][region].config_aggregators[name])


def _aggregation_of(aggregator: Any) -> Aggregation:
    # An aggregator a test created through the API alone gets a state on first use: replicated then.
    with _lock:
        state = aggregator.__dict__.get(_AGGREGATION_ATTRIBUTE)
        if state is None:
            created = datetime.fromtimestamp(aggregator.creation_time, UTC)
            state = Aggregation(replicated_at=created)
            setattr(aggregator, _AGGREGATION_ATTRIBUTE, state)
    assert isinstance(state, Aggregation)
    return state


class _AggregatedSources:
    """The sources of one moto aggregator, read from their accounts' simulated Config state."""

    def __init__(self, account_id: str, aggregator: Any, state: Aggregation) -> None:
        self._state = state
        organization = aggregator.organization_aggregation_source
        if organization is not None:
            members, self.organization_id = _organization_members(account_id)
            regions = organization.aws_regions or state.all_regions
        else:
            (accounts,) = aggregator.account_aggregation_sources
            members, self.organization_id = list(accounts.account_ids), None
            regions = accounts.aws_regions or state.all_regions
        self._places = [(member, region) for member in sorted(members) for region in sorted(regions)]
        self._known = frozenset(self._places)

    def all(self, region: str | None = None) -> list[Source]:
        """Every source (of one region), by account and region."""
        return [self._source(a, r) for a, r in self._places if region in (None, r)]

    def one(self, account_id: str, region: str) -> Source | None:
        """The source of this account and region, None when the aggregator has none."""
        return self._source(account_id, region) if (account_id, region) in self._known else None

    def items(self, resource_ids: set[str]) -> Iterator[tuple[str, str, ConfigurationItem]]:
        """(account, region, item) of every current item whose resource ID is one of `resource_ids`."""
        for account_id, region in self._places:
            for item in inventory(account_id, region).with_ids(resource_ids):
                yield account_id, region, item

    def _source(self, account_id: str, region: str) -> Source:
        state = self._state
        failure = state.failure(account_id, region)
        copy = state.copy_of(account_id, region)
        if failure is not None:
            status, updated = "FAILED", failure.failed_at
        elif region_access(account_id, region) is not None or not _records(account_id, region):
            status, updated = "OUTDATED", state.replicated_at
        else:
            status, updated = "SUCCEEDED", copy.taken_at if copy is not None else state.replicated_at
        return Source(
            account_id=account_id,
            region=region,
            status=status,
            updated_at=updated,
            read_rules=(lambda: copy.rules)
            if copy is not None
            else (lambda: aggregated_rules(account_id, region)),
            records_compliance=state.records_compliance(account_id, region),
            error_code=failure.error_code if failure else "",
            error_message=failure.error_message if failure else "",
        )


def aggregated_rules(account_id: str, region: str) -> dict[str, tuple[Evaluation, ...]]:
    """One source's rules (those being deleted aside) and their evaluations, as an aggregator copies them."""
    backend = config_backends[account_id][region]
    store = compliance_store(account_id, region)
    return {
        str(rule.config_rule_name): store.for_rule(str(rule.config_rule_name))
        for rule in list(backend.config_rules.values())
        if rule.config_rule_state not in _DELETING
    }


def _records(account_id: str, region: str) -> bool:
    """Whether Config records in the region: the account's own recorder, or a service-linked one."""
    backend = config_backends[account_id][region]
    for recorder in list(backend.recorders.values()):
        last = _AWS_STATUS.get(recorder.status.last_status or "", recorder.status.last_status or "")
        if recorder.status.recording and last != FAILURE:
            return True
    return any(r.recording for r in service_linked_recorders(account_id, region).all())


def _organization_members(account_id: str) -> tuple[list[str], str | None]:
    """The ACTIVE accounts of the organization `account_id` belongs to, and its ID."""
    management = organizations_backends.master_accounts.get(account_id, (account_id, _PARTITION))[0]
    backend = organizations_backends[management][_PARTITION]
    if backend.org is None:
        return [], None
    members = [a.id for a in backend.accounts if a.state == "ACTIVE"]
    return members, str(backend.org.id)
