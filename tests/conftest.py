"""Shared fixtures: the simulated organization (AWS on 127.0.0.1), for every test that needs AWS.

- `simulated_org` (session): one `SimulatedOrganization` seeded with the demo defaults (25 ACTIVE and
  2 SUSPENDED accounts, regions eu-west-1, us-east-1, eu-central-1, seed 7). What it contains is
  `simulated_org.seeded` (a `SeededOrganization`); `simulated_org.client_env()` points a
  `config-report` subprocess at it; `simulated_org.client(service, account_id=...)` gives boto3
  clients. It is shared, so treat its AWS state as read-only; a test that sets faults must call
  `simulated_org.faults.reset()` when done (or use `fresh_simulated_org`).
- `fresh_simulated_org` (function): the same server, emptied and reseeded with the defaults before the
  test and again after it, for tests that change AWS state or want another seeding
  (`fresh_simulated_org.reset(); fresh_simulated_org.seed(accounts=6)`). Seeding takes about a second.

- `cloud`, `datacenter` (function): a fake Jira of that flavor on 127.0.0.1 (config_report.simulated.jira).

moto's state is per process, so there is only ever one simulator per test process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config_report.simulated import SimulatedOrganization
from config_report.simulated.jira import FakeJira
from reliability import render


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--reliability-doc PATH`: write the table of the collected fault tests' outcomes to PATH."""
    parser.addoption("--reliability-doc", metavar="PATH", help="write docs/reliability.md to PATH")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Write the reliability table when asked (`make reliability`)."""
    target = session.config.getoption("--reliability-doc")
    if target:
        Path(target).write_text(render(session.items), encoding="utf-8")


@pytest.fixture(scope="session")
def simulated_org() -> Iterator[SimulatedOrganization]:
    """The session's simulated organization, seeded with the demo defaults."""
    with SimulatedOrganization() as sim:
        sim.seed()
        yield sim


@pytest.fixture
def fresh_simulated_org(simulated_org: SimulatedOrganization) -> Iterator[SimulatedOrganization]:
    """The simulated organization freshly reseeded for this test, and restored for the next ones."""
    simulated_org.reset()
    simulated_org.seed()
    yield simulated_org
    simulated_org.reset()
    simulated_org.seed()


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    """A fake Jira Cloud on 127.0.0.1 (REST v3, basic auth) for one test."""
    with FakeJira("cloud").running() as fake:
        yield fake


@pytest.fixture
def datacenter() -> Iterator[FakeJira]:
    """A fake Jira Data Center on 127.0.0.1 (REST v2, bearer PAT) for one test."""
    with FakeJira("datacenter").running() as fake:
        yield fake
