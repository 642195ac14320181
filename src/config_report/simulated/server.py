"""The simulated organization's server: moto 5.2.1 on 127.0.0.1, in-process, behind the fault layer.

    with SimulatedOrganization() as sim:
        seeded = sim.seed(accounts=25, seed=7)
        sim.faults.configure(config_throttle_rate=0.2, seed=1)
        env = sim.client_env()          # for a `config-report run` subprocess

Any AWS client pointed at `endpoint_url` works as against AWS: the default moto credentials (access
key `testing`) are the hub account 123456789012, and credentials returned by sts:AssumeRole act in the
role's account, for every service (Organizations, Config, EC2, S3, STS, IAM, ...).

moto keeps its state in module globals, so only one `SimulatedOrganization` can run per process at a
time (starting a second raises `RuntimeError`). `start()` resets moto, so each instance begins empty.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

import boto3
import httpx
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from config_report.simulated import _moto
from config_report.simulated.aggregator_seed import AGGREGATOR_ACCOUNT, SeededAggregator, seed_aggregator
from config_report.simulated.faults import FaultLayer, FaultPlan
from config_report.simulated.seed import SeededOrganization, seed_organization

HOST = "127.0.0.1"
HUB_ACCESS_KEY = "testing"
_MOTO_ACCOUNT_HEADER = "x-moto-account-id"
# No proxy from the environment: the simulator is on loopback.
_LOOPBACK = Config(proxies={})

# moto's backends are process globals: two servers would share (and reset) each other's state.
_one_per_process = threading.Lock()


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing: thousands of requests per run would drown the test output."""


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend answers each host.

    moto works it out on every request, under one lock, by listing its own package directory and
    trying every backend's URL patterns: 14 % of the simulator's CPU in the benchmark's profile, and
    every request waits its turn for it. The answer depends only on the host.
    """

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backend_of: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        """moto's answer for `host`, worked out once (called under moto's dispatch lock)."""
        if host not in self._backend_of:
            self._backend_of[host] = super().get_backend_for_host(host)
        return self._backend_of[host]


class SimulatedOrganization:
    """A moto server on loopback plus Config compliance APIs and fault injection; a context manager."""

    def __init__(self, *, port: int = 0, faults: FaultPlan | None = None) -> None:
        """`port=0` picks a free port; `faults` apply from the start (seeding is never faulted)."""
        self._port = port
        self._initial_faults = faults
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._faults: FaultLayer | None = None
        self._seeded: SeededOrganization | None = None
        self._aggregator: SeededAggregator | None = None
        # One boto3 session for every client: it caches the service models that make a client costly.
        self._session = boto3.session.Session()
        self._session_lock = threading.Lock()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Serve on 127.0.0.1 with empty moto state; raises `RuntimeError` if another one is running."""
        if self._server is not None:
            return self
        if not _one_per_process.acquire(blocking=False):
            raise RuntimeError(
                "a SimulatedOrganization is already running in this process (moto state is global)"
            )
        try:
            _moto.install_compliance_apis()
            _moto.index_access_keys()
            _moto.sign_s3_queries_as_sent()
            self._faults = FaultLayer(
                _Dispatcher(),
                _moto.caller_identity,
                self._initial_faults,
                region_access=_moto.region_access,
                trust=_moto.role_trust,
            )
            self._server = make_server(
                HOST, self._port, self._faults, threaded=True, request_handler=_QuietHandler
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="simulated-aws", daemon=True
            )
            self._thread.start()
            self._reset_moto()
        except BaseException:
            self._shutdown()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release the process's one simulator slot (idempotent)."""
        if self._server is not None:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None
        self._seeded = None
        self._aggregator = None
        _one_per_process.release()

    @property
    def endpoint_url(self) -> str:
        """`http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL` or a client's `endpoint_url`."""
        if self._server is None:
            raise RuntimeError("the simulated organization is not running; call start() first")
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def faults(self) -> FaultLayer:
        """The fault layer: `configure(...)` it, read its `counts`, `reset()` it."""
        if self._faults is None:
            raise RuntimeError("the simulated organization is not running; call start() first")
        return self._faults

    @property
    def seeded(self) -> SeededOrganization:
        """What the last `seed()` built."""
        if self._seeded is None:
            raise RuntimeError("the simulated organization has not been seeded; call seed() first")
        return self._seeded

    def seed(self, **options: Any) -> SeededOrganization:
        """Build an organization (see `seed_organization` for the options) with faults suspended.

        Seeds an empty simulator only: after a first `seed()`, call `reset()` before seeding again.
        """
        if self._seeded is not None:
            raise RuntimeError("the simulated organization is already seeded; call reset() first")
        with self.faults.suspended():
            seeded = seed_organization(self, **options)
            self._aggregator = seed_aggregator(
                self,
                account_id=seeded.account_named(AGGREGATOR_ACCOUNT).id,
                region=seeded.hub.region,
                regions=seeded.regions,
                hub_role_arn=seeded.hub.role_arn,
            )
        self._seeded = seeded
        return seeded

    @property
    def aggregator(self) -> SeededAggregator:
        """The seeded organization's configuration aggregator (config_report.simulated.aggregator_seed)."""
        if self._aggregator is None:
            raise RuntimeError("the simulated organization has not been seeded; call seed() first")
        return self._aggregator

    def reset(self) -> None:
        """Empty moto's state and the fault layer, as if just started (forget what was seeded)."""
        self._reset_moto()
        self.faults.reset()
        self._seeded = None
        self._aggregator = None

    def _reset_moto(self) -> None:
        # trust_env=False: a proxy from the environment must never see loopback traffic.
        httpx.post(f"{self.endpoint_url}/moto-api/reset", timeout=30, trust_env=False).raise_for_status()

    def client(self, service: str, *, region: str = "eu-west-1", account_id: str | None = None) -> Any:
        """A boto3 client on the simulator: as the hub, or with admin rights in `account_id`.

        `account_id` uses moto's `x-moto-account-id` header, so it needs no role and no sts:AssumeRole
        (the fault layer still sees the hub's key). Meant for seeding and for test set-up.
        """
        with self._session_lock:  # boto3 sessions are not thread-safe when creating clients
            client = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=HUB_ACCESS_KEY,
                aws_secret_access_key=HUB_ACCESS_KEY,
                config=_LOOPBACK,
            )
        if account_id is not None:

            def act_as(request: Any, **_: Any) -> None:
                request.headers[_MOTO_ACCOUNT_HEADER] = account_id

            client.meta.events.register("before-sign", act_as)
        return client

    def client_env(self) -> dict[str, str]:
        """The environment a `config-report run` subprocess needs to scan the seeded organization.

        Merge it over a copy of `os.environ` from which other AWS credentials have been removed.
        `NO_PROXY` keeps a proxy configured for the internet away from the simulator on loopback.
        """
        seeded = self.seeded
        return {
            "NO_PROXY": HOST,
            "no_proxy": HOST,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": HUB_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": HUB_ACCESS_KEY,
            "AWS_REGION": seeded.hub.region,
            "AWS_DEFAULT_REGION": seeded.hub.region,
            "CONFIG_REPORT_ORG_ROLE_ARN": seeded.org_role_arn,
            "CONFIG_REPORT_S3_BUCKET": seeded.hub.report_bucket,
            "CONFIG_REPORT_REGIONS": ",".join(seeded.regions),
            # The aggregator is read only with CONFIG_REPORT_SOURCE=aggregator, and by `verify`.
            **self.aggregator.client_env(),
        }
