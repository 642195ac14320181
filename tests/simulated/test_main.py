"""`python -m config_report.simulated`: a standalone simulator a person points config-report at."""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from simulated.aws_callers import LOOPBACK

COMMAND = [sys.executable, "-m", "config_report.simulated"]


def test_the_standalone_simulator_refuses_an_unknown_account_to_deny() -> None:
    done = subprocess.run(
        [*COMMAND, "--accounts", "6", "--deny", "no-such-account"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert "no-such-account" in done.stderr


def test_the_standalone_simulator_prints_the_environment_and_stops_on_ctrl_c() -> None:
    with _simulator("--accounts", "6", "--deny", "acme-log-archive", "--throttle-rate", "0.0") as process:
        env = _exports(process)
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_REGION"],
        )
        sts = session.client("sts", endpoint_url=env["AWS_ENDPOINT_URL"], config=LOOPBACK)
        identity = sts.get_caller_identity()
        org_role = sts.assume_role(RoleArn=env["CONFIG_REPORT_ORG_ROLE_ARN"], RoleSessionName="standalone")
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)

    assert process.returncode == 0
    assert identity["Account"] == "123456789012"
    assert org_role["AssumedRoleUser"]["Arn"].split(":")[4] == env["CONFIG_REPORT_ORG_ROLE_ARN"].split(":")[4]
    assert env["CONFIG_REPORT_REGIONS"] == "eu-west-1,us-east-1,eu-central-1"


def test_the_standalone_simulator_stops_when_ctrl_c_lands_on_one_of_its_server_threads() -> None:
    # A signal sent to the process usually lands on its main thread, but one aimed at a thread (or
    # taken by one when the main thread cannot) lands elsewhere: tgkill (glibc 2.30+) makes it certain.
    with _simulator("--accounts", "6") as process:
        _exports(process)
        (server_thread, *_) = sorted(
            int(t) for t in os.listdir(f"/proc/{process.pid}/task") if int(t) != process.pid
        )
        assert ctypes.CDLL(None, use_errno=True).tgkill(process.pid, server_thread, signal.SIGINT) == 0
        process.communicate(timeout=60)

    assert process.returncode == 0


@contextmanager
def _simulator(*args: str) -> Iterator[subprocess.Popen[str]]:
    """The standalone simulator running with `args`; killed on the way out if the test did not stop it."""
    process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def _exports(process: subprocess.Popen[str]) -> dict[str, str]:
    """The `export NAME=value` lines printed before '# Ctrl-C to stop'."""
    assert process.stdout is not None
    env: dict[str, str] = {}
    for line in process.stdout:
        if line.startswith("# Ctrl-C"):
            return env
        if line.startswith("export "):
            name, _, value = shlex.split(line)[1].partition("=")
            env[name] = value
    raise AssertionError(f"the simulator stopped before it was ready: {process.communicate()[1][-2000:]}")
