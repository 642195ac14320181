"""What a role's trust policy refuses an sts:AssumeRole request, as far as the simulator models it.

moto checks no trust policy across accounts, so the fault layer asks this module one question AWS
would answer: does the trust allow the session tags the request carries? A request carries session
tags when it passes `Tags`, or when the caller's own session holds transitive tags, which AWS passes
on to every role it assumes (role chaining). EKS Pod Identity tags each pod's session this way
(eks-cluster-arn, eks-cluster-name, kubernetes-namespace, kubernetes-service-account,
kubernetes-pod-name, kubernetes-pod-uid, all transitive), so a Pod Identity hub assuming a spoke
role needs `sts:TagSession` in that role's trust: without it AWS answers `AccessDenied`, "... is not
authorized to perform: sts:TagSession on resource: <role ARN>".

Principals and conditions are not evaluated here (moto's own enforcement, when on, checks identity
policies; see tests/deploy/test_least_privilege.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TAG_SESSION = "sts:TagSession"


def allowed_actions(trust: Mapping[str, Any]) -> set[str]:
    """The actions the trust's Allow statements name (a single action may be a string)."""
    actions: set[str] = set()
    for statement in _statements(trust):
        if statement.get("Effect") != "Allow":
            continue
        named = statement.get("Action", [])
        actions.update([named] if isinstance(named, str) else named)
    return actions


def refused_action(trust: Mapping[str, Any] | None, *, carries_tags: bool) -> str | None:
    """The action the role's `trust` refuses to this request, or None (also when the role is unknown)."""
    if trust is None or not carries_tags:
        return None
    allowed = allowed_actions(trust)
    if TAG_SESSION in allowed or "sts:*" in allowed or "*" in allowed:
        return None
    return TAG_SESSION


def _statements(trust: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = trust.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)
