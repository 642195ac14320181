"""Rule names: generated suffixes removed so one control has one name; rule filters on that name."""

from __future__ import annotations

import pytest

from config_report.domain.rules import RuleFilter, normalize_rule_name, organization_pack_name


@pytest.mark.parametrize(
    ("name", "created_by", "normalized"),
    [
        (
            "OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba",
            "config-multiaccountsetup.amazonaws.com",
            "s3-bucket-versioning-enabled",
        ),
        (
            "s3-bucket-public-read-prohibited-conformance-pack-szsm1uv0w",
            "config-conforms.amazonaws.com",
            "s3-bucket-public-read-prohibited",
        ),
        (
            "securityhub-access-keys-rotated-nv6rb",
            "securityhub.amazonaws.com",
            "securityhub-access-keys-rotated",
        ),
        ("FMManagedSecurityGroupAudit-x7k2p9q1", "fms.amazonaws.com", "FMManagedSecurityGroupAudit"),
    ],
)
def test_service_generated_suffixes_are_removed(name: str, created_by: str, normalized: str) -> None:
    assert normalize_rule_name(name, created_by) == normalized


def test_the_same_control_redeployed_with_a_new_suffix_keeps_its_name() -> None:
    first = normalize_rule_name("OrgConfigRule-iam-password-policy-dbgzf8ba")
    second = normalize_rule_name("OrgConfigRule-iam-password-policy-q81mzk2c")
    assert first == second == "iam-password-policy"


@pytest.mark.parametrize(
    "name",
    ["s3-bucket-logging-enabled", "encrypted-volumes", "=1+2-restricted-ssh", "datenschutz-prüfung-✓", ""],
)
def test_rules_an_account_created_itself_keep_their_name(name: str) -> None:
    assert normalize_rule_name(name) == name
    assert normalize_rule_name(name, None) == name


@pytest.mark.parametrize(
    ("copy", "pack"),
    [
        ("OrgConformsPack-Operational-Best-Practices-for-CIS-x7k2p9q1", "Operational-Best-Practices-for-CIS"),
        # The pack's own last word has the shape of the suffix: only the suffix goes.
        ("OrgConformsPack-acme-security-baseline-h7cmaqcs", "acme-security-baseline"),
        ("OrgConformsPack-a-0a1b2c3d", "a"),
    ],
)
def test_an_organization_packs_copy_is_named_as_the_organization_names_the_pack(copy: str, pack: str) -> None:
    assert organization_pack_name(copy) == pack


def test_the_copies_in_every_account_and_region_are_the_same_organization_pack() -> None:
    copies = ("h7cmaqcs", "lgjg3vps", "on9qcber", "00000000")
    names = {
        organization_pack_name(f"OrgConformsPack-Operational-Best-Practices-for-PCI-DSS-{s}") for s in copies
    }
    assert names == {"Operational-Best-Practices-for-PCI-DSS"}


@pytest.mark.parametrize(
    "name",
    [
        "Operational-Best-Practices-for-CIS",  # a pack the account deployed itself
        "acme-security-baseline",
        "OrgConformsPack-acme-pack-X7K2P9Q1",  # a suffix of another shape: not guessed at
        "OrgConformsPack-acme-pack-x7k2p9",
        "OrgConformsPack-acme-pack-x7k2p9q1z",
        "OrgConformsPack-x7k2p9q1",  # no name before the suffix
        "copy-of-OrgConformsPack-acme-pack-x7k2p9q1",
        "",
    ],
)
def test_an_accounts_own_pack_or_a_suffix_of_another_shape_is_no_organization_pack(name: str) -> None:
    assert organization_pack_name(name) is None


def test_a_filter_without_patterns_includes_every_rule() -> None:
    assert RuleFilter().includes("anything")


def test_exclusions_win_over_inclusions() -> None:
    rules = RuleFilter(include=("s3-*", "securityhub-*"), exclude=("securityhub-*",))
    assert rules.includes("s3-bucket-logging-enabled")
    assert not rules.includes("securityhub-access-keys-rotated")
    assert not rules.includes("encrypted-volumes")
