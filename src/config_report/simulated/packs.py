"""AWS Config conformance packs, which moto 5.2.1 lacks: `DescribeConformancePacks` and
`DescribeConformancePackCompliance`, for one account and region.

A conformance pack deploys its rules into the account with a generated suffix
(`<rule>-conformance-pack-<9 characters>`, `CreatedBy` `config-conforms.amazonaws.com`); the pack
lists them by those deployed names. An organization conformance pack is, in each member account and
region, such a pack under a name of its own (`OrgConformsPack-<name>-<suffix>`), listed like any other
pack. `ConformancePacks` holds the packs the seeder deployed; `ConformancePackApi` answers the two
actions from it and from the evaluations in the `ComplianceStore`. `_moto.py` plugs the actions into
moto's Config endpoint.

Faithful to the AWS Config API reference (2014-11-12):

- `DescribeConformancePacks`: `Limit` 0 to 20 (the page size, also without one), at most 25
  `ConformancePackNames`; a name that is not a pack is `NoSuchConformancePackException`. Each
  `ConformancePackDetails` item has the pack's name, ARN
  (`arn:aws:config:<region>:<account>:conformance-pack/<name>/conformance-pack-<id>`), ID,
  input parameters and `LastUpdateRequestedTime`.
- `DescribeConformancePackCompliance`: `ConformancePackName` required (1 to 256 characters,
  `[a-zA-Z][-a-zA-Z0-9]*`); `Limit` 0 to 1000; `Filters.ConfigRuleNames` at most 10, each a rule of
  the pack (else `NoSuchConfigRuleInConformancePackException`); `Filters.ComplianceType` one of
  COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA. Each `ConformancePackRuleComplianceList` item is the
  deployed rule's `ConfigRuleName`, its `ComplianceType` (the rule's own, by AWS's definition; a rule
  with only NOT_APPLICABLE results is INSUFFICIENT_DATA, the pack API knowing no other word) and its
  `Controls`.

Where AWS does not document behaviour, the simulator picks the plain choice, as `compliance.py` does:
packs in name order, rules in name order, a page of the largest `Limit` when none is given, an opaque
offset as `NextToken`. AWS documents `NoSuchConformancePackException` only as "You specified one or
more conformance packs that do not exist."; the simulator answers with that sentence.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime

from config_report.simulated.compliance import (
    COMPLIANT,
    INSUFFICIENT_DATA,
    NON_COMPLIANT,
    ComplianceStore,
    ConfigApiError,
    Params,
    Response,
    _constraint,
    _enum_constraint,
    _limit,
    _page,
    _with_token,
    rule_compliance,
)

PACKS_MAX_LIMIT = 20
PACK_COMPLIANCE_MAX_LIMIT = 1000
PACK_NAMES_MAX = 25
PACK_RULE_NAMES_MAX = 10
PACK_NAME_MAX_LENGTH = 256
_PACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
_PACK_COMPLIANCE_TYPES = (COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA)


@dataclass(frozen=True, slots=True)
class ConformancePack:
    """A conformance pack deployed in one account and region, and the rules it deployed there."""

    name: str
    pack_id: str  # the 9 characters of `conformance-pack-<id>`
    rules: tuple[str, ...]  # deployed rule names, with the pack's suffix
    deployed_at: datetime
    controls: tuple[str, ...] = ()  # the controls the pack maps its rules to (the same for each here)


class ConformancePacks:
    """The conformance packs of one account and region (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._packs: dict[str, ConformancePack] = {}

    def put(self, pack: ConformancePack) -> None:
        """Deploy (or redeploy) a pack."""
        with self._lock:
            self._packs[pack.name] = pack

    def all(self) -> tuple[ConformancePack, ...]:
        """Every pack, in name order."""
        with self._lock:
            return tuple(self._packs[name] for name in sorted(self._packs))

    def get(self, name: str) -> ConformancePack | None:
        """The pack called `name`, if one is deployed."""
        with self._lock:
            return self._packs.get(name)


class ConformancePackApi:
    """The conformance pack actions for one account and region; method names are the actions in snake_case."""

    ACTIONS = ("describe_conformance_packs", "describe_conformance_pack_compliance")

    def __init__(
        self, packs: ConformancePacks, store: ComplianceStore, *, account_id: str, region: str
    ) -> None:
        self._packs = packs
        self._store = store
        self._account_id = account_id
        self._region = region

    def describe_conformance_packs(self, params: Params) -> Response:
        """DescribeConformancePacks: every pack (or the named ones), 20 per page at most."""
        names = params.get("ConformancePackNames") or []
        if len(names) > PACK_NAMES_MAX:
            raise _constraint(
                "conformancePackNames",
                names,
                f"Member must have length less than or equal to {PACK_NAMES_MAX}",
            )
        limit = _limit(params, PACKS_MAX_LIMIT, PACKS_MAX_LIMIT)
        packs = [self._pack(str(name)) for name in sorted(set(names))] if names else list(self._packs.all())
        page, token = _page(packs, params.get("NextToken"), limit)
        return _with_token({"ConformancePackDetails": [self._detail(p) for p in page]}, token)

    def describe_conformance_pack_compliance(self, params: Params) -> Response:
        """DescribeConformancePackCompliance: each rule of the pack and its compliance, `Limit` per page."""
        name = params.get("ConformancePackName")
        if not isinstance(name, str) or not name:
            raise _constraint("conformancePackName", name, "Member must not be null")
        if len(name) > PACK_NAME_MAX_LENGTH or not _PACK_NAME.fullmatch(name):
            raise _constraint(
                "conformancePackName",
                name,
                f"Member must have length less than or equal to {PACK_NAME_MAX_LENGTH}, "
                "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*",
            )
        pack = self._pack(name)
        filters = params.get("Filters") or {}
        rules = self._filtered_rules(pack, filters.get("ConfigRuleNames") or [])
        wanted = filters.get("ComplianceType")
        if wanted is not None and wanted not in _PACK_COMPLIANCE_TYPES:
            raise _constraint("filters.complianceType", wanted, _enum_constraint(_PACK_COMPLIANCE_TYPES))
        limit = _limit(params, PACK_COMPLIANCE_MAX_LIMIT, PACK_COMPLIANCE_MAX_LIMIT)
        items = [
            {"ConfigRuleName": rule, "ComplianceType": compliance, "Controls": list(pack.controls)}
            for rule in rules
            if wanted in (None, compliance := self._compliance(rule))
        ]
        page, token = _page(items, params.get("NextToken"), limit)
        return _with_token(
            {"ConformancePackName": pack.name, "ConformancePackRuleComplianceList": page}, token
        )

    def _pack(self, name: str) -> ConformancePack:
        pack = self._packs.get(name)
        if pack is None:
            raise ConfigApiError(
                "NoSuchConformancePackException",
                "You specified one or more conformance packs that do not exist.",
            )
        return pack

    def _filtered_rules(self, pack: ConformancePack, names: list[str]) -> list[str]:
        if len(names) > PACK_RULE_NAMES_MAX:
            raise _constraint(
                "filters.configRuleNames",
                names,
                f"Member must have length less than or equal to {PACK_RULE_NAMES_MAX}",
            )
        for name in names:
            if name not in pack.rules:
                raise ConfigApiError(
                    "NoSuchConfigRuleInConformancePackException",
                    f"The ConfigRule '{name}' is not part of the conformance pack '{pack.name}'.",
                )
        return sorted(set(names) if names else pack.rules)

    def _compliance(self, rule: str) -> str:
        compliance, _ = rule_compliance(self._store.for_rule(rule))
        return compliance if compliance in _PACK_COMPLIANCE_TYPES else INSUFFICIENT_DATA

    def _detail(self, pack: ConformancePack) -> Response:
        pack_id = f"conformance-pack-{pack.pack_id}"
        return {
            "ConformancePackName": pack.name,
            "ConformancePackArn": (
                f"arn:aws:config:{self._region}:{self._account_id}:conformance-pack/{pack.name}/{pack_id}"
            ),
            "ConformancePackId": pack_id,
            "ConformancePackInputParameters": [],
            "LastUpdateRequestedTime": pack.deployed_at.timestamp(),
        }
