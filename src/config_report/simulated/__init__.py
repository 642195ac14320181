"""The simulated organization: AWS on loopback for the tests, `config-report demo` and the benchmarks.

A pinned moto server, plus what moto lacks (AWS Config's compliance APIs), plus a fault layer
(latency, throttling, denied roles), plus a seeder that builds a realistic organization and says what
a correct report of it contains. The production job never imports this package.

    from config_report.simulated import SimulatedOrganization

    with SimulatedOrganization() as sim:
        seeded = sim.seed(accounts=25, seed=7)
        env = sim.client_env()   # AWS_ENDPOINT_URL, credentials and CONFIG_REPORT_* for `config-report run`
"""

from config_report.simulated.faults import FaultCounts, FaultLayer, FaultPlan
from config_report.simulated.pod_identity import PodIdentityAgent
from config_report.simulated.seed import HubInfo, SeededOrganization, seed_organization
from config_report.simulated.server import SimulatedOrganization

__all__ = [
    "FaultCounts",
    "FaultLayer",
    "FaultPlan",
    "HubInfo",
    "PodIdentityAgent",
    "SeededOrganization",
    "SimulatedOrganization",
    "seed_organization",
]
