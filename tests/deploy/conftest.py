"""Fixtures of the deployment tests: the deploy tools (see deploy_tools.py) and the Helm chart."""

from __future__ import annotations

import pytest

from deploy.deploy_tools import TOOLS_DIR, Chart, DeployTools


@pytest.fixture(scope="session")
def deploy_tools() -> DeployTools:
    """The deploy tools, located once per session; a missing tool fails the test that needs it."""
    return DeployTools(TOOLS_DIR)


@pytest.fixture(scope="session")
def chart(deploy_tools: DeployTools) -> Chart:
    """The config-report chart, rendered through the deploy tools' helm."""
    return Chart(deploy_tools)
