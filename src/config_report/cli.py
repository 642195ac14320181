"""The `config-report` command: `run`, `demo`, `check`, `merge` (of a sharded run) and `verify`.

Every setting is an environment variable (`CONFIG_REPORT_*`, what the Helm chart sets) and also a flag;
a flag wins. Exit codes: 0 complete, 3 published with coverage gaps, 4 published but Jira failed,
2 invalid configuration or usage, 1 failed (no report published).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import Any, get_args

from config_report import __version__
from config_report.app.interrupt import stop_on_sigterm
from config_report.errors import ConfigReportError, ExitCode, SettingsError
from config_report.logs import configure, get_logger, wants_json
from config_report.settings import SOURCE_SPOKES, Settings, Source, env_name, flag_name, load_settings

_SETTING = "setting_"
# Settings whose flag takes one of a few words (their Literal type).
_CHOICES = ("log_format", "log_level", "jira_flavor", "source", "aggregator_findings")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per job, every setting as a flag."""
    parser = argparse.ArgumentParser(
        prog="config-report",
        description="Weekly AWS Config compliance report for every account of an AWS Organization.",
        epilog="Exit codes: 0 complete, 3 coverage incomplete, 4 Jira failed, 2 bad configuration, 1 failed.",
    )
    parser.add_argument("--version", action="version", version=f"config-report {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="scan the organization, publish the report to S3 (and Jira)")
    run.add_argument(
        "--dry-run", action="store_true", help="scan and build the report; upload and write nothing"
    )
    demo = commands.add_parser(
        "demo", help="the same pipeline against a simulated organization, no AWS needed"
    )
    demo.add_argument("--accounts-count", type=int, default=25, help="simulated accounts (default 25)")
    demo.add_argument("--output", default="reports", help="folder for the report (default ./reports)")
    demo.add_argument(
        "--with-denied-account",
        action="store_true",
        help="deny the spoke role in one account, to see a coverage gap (exit code 3)",
    )
    demo.add_argument(
        "--source",
        choices=get_args(Source),
        default=SOURCE_SPOKES,
        help="read compliance through the spoke roles (default) or the organization's aggregator, then "
        "compare the two (verify)",
    )
    demo.add_argument(
        "--with-aggregation-failure",
        action="store_true",
        help="one aggregator source fails: a coverage gap through the aggregator (exit code 3)",
    )
    demo.add_argument(
        "--with-aggregator-lag",
        action="store_true",
        help="one aggregator source keeps last week's copy: verify names what it missed",
    )
    check = commands.add_parser("check", help="preflight: validate settings and prove each permission")
    check.add_argument(
        "--sample",
        type=_positive,
        default=None,
        metavar="N",
        help="prove the spoke role in only the first N accounts in scope (default: every account)",
    )
    merge = commands.add_parser(
        "merge", help="merge a sharded run's parts now; shards that never reported become coverage gaps"
    )
    merge.add_argument(
        "--overdue",
        action="store_true",
        help="merge every sharded run nobody merged CONFIG_REPORT_MERGE_DEADLINE_SECONDS after it started "
        "(CONFIG_REPORT_RUN_NAME is not needed: the runs are found in the bucket)",
    )
    verify = commands.add_parser(
        "verify", help="compare the aggregator with the accounts themselves; exit 0 only when they agree"
    )
    verify.add_argument(
        "--sample",
        type=_positive,
        default=None,
        metavar="N",
        help="compare only the first N accounts in scope (default: every account)",
    )
    for sub in (run, check, merge, verify):
        _add_settings_flags(sub)
    return parser


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of accounts")
    return value


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each flag is also the environment variable shown)")
    for name, field in Settings.model_fields.items():
        choices = get_args(field.annotation) if name in _CHOICES else None
        group.add_argument(
            flag_name(name),
            dest=_SETTING + name,
            default=None,
            choices=choices or None,
            metavar=name.upper() if not choices else None,
            help=f"{field.description} [{env_name(name)}]",
        )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        k.removeprefix(_SETTING): v for k, v in vars(args).items() if k.startswith(_SETTING) and v is not None
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from config_report.app.demo import DemoOptions, run_demo  # the simulator is an optional extra

            options = DemoOptions(
                deny=args.with_denied_account,
                source=args.source,
                failed_source=args.with_aggregation_failure,
                lagging_source=args.with_aggregator_lag,
            )
            return run_demo(accounts=args.accounts_count, output=args.output, options=options)
        settings = load_settings(_overrides(args))
        as_json = configure(settings.log_format, settings.log_level)
        if args.command == "check":
            return _check(settings, sample=args.sample)
        if args.command == "verify":
            from config_report.app.verify import verify

            return int(verify(settings, as_json=as_json, sample=args.sample).exit_code)
        if args.command == "merge":
            from config_report.app.shards import merge_overdue, merge_run

            _settle_imports()
            if args.overdue:
                return int(merge_overdue(settings, as_json=as_json))
            return int(merge_run(settings, as_json=as_json).exit_code)
        from config_report.app.run import run
        from config_report.app.shards import run_shard

        _settle_imports()
        with stop_on_sigterm() as stop:
            if settings.shard_count > 1 and not args.dry_run:
                return int(run_shard(settings, as_json=as_json, stop=stop).exit_code)
            return int(run(settings, as_json=as_json, dry_run=args.dry_run, stop=stop).exit_code)
    except SettingsError as exc:
        _report_settings_error(exc, args)
        return int(exc.exit_code)
    except ConfigReportError as exc:
        get_logger().error("run.failed", error=str(exc), exit_code=int(exc.exit_code))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130


def _settle_imports() -> None:
    """Keep what is loaded so far (the modules: botocore, XlsxWriter, the report's code) out of the
    cyclic collector's passes, for the rest of the process.

    It all lives as long as the process does, yet every full collection would traverse it again, and a
    run allocates millions of objects (each call's botocore parsing, each finding read back from the
    spool), so full collections come often: about a tenth of a run's CPU, measured (docs/benchmarks.md).
    Only what is alive now is frozen, so memory does not grow.
    """
    gc.freeze()


def _report_settings_error(exc: SettingsError, args: argparse.Namespace) -> None:
    # The settings did not load, so the log format is read raw: a cluster that collects JSON lines
    # gets this error as one JSON line at `error`, which its log alerts can match.
    requested = getattr(args, _SETTING + "log_format", None) or os.environ.get(env_name("log_format"), "auto")
    log_format = requested if requested in ("auto", "json", "text") else "auto"
    if wants_json(log_format, sys.stderr):
        configure("json")
        get_logger().error("settings.invalid", error=str(exc), exit_code=int(exc.exit_code))
    else:
        print(f"config-report: {exc}", file=sys.stderr)


def _check(settings: Settings, *, sample: int | None) -> int:
    from config_report.app.check import run_checks, summary

    results = []
    for result in run_checks(settings, sample=sample):
        print(result.line(), flush=True)
        results.append(result)
    print(summary(results, sampled=sample is not None))
    return ExitCode.OK if all(r.ok for r in results) else ExitCode.FAILED


if __name__ == "__main__":
    sys.exit(main())
