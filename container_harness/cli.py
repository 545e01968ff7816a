"""The `container-harness` command: `compare` (the regression gate), `summary` (Markdown of a report) and
`curve` (the latency-throughput curve of the configured image).

Exit codes: 0 ok, 1 regression, 2 unreadable input or wrong usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from container_harness.errors import GateInputError, HarnessError
from container_harness.gate.baseline import compare, gate_markdown, gate_table, load_tolerances
from container_harness.report.render import render_markdown

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m container_harness`."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except HarnessError as exc:
        Console(stderr=True).print(f"[bold red]harness {args.command}:[/] {exc}", highlight=False)
        return EXIT_BAD_INPUT
    return code


def _compare(args: argparse.Namespace) -> int:
    baseline = _read_report(args.baseline, "baseline")
    report = _read_report(args.report, "report")
    result = compare(baseline, report, load_tolerances(args.tolerances))
    console = Console()
    console.print(gate_table(result))
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(gate_markdown(result))
    if not result.comparisons:
        console.print(
            "[bold red]no figure of the baseline is covered by a tolerance: nothing was compared[/]"
        )
        return EXIT_BAD_INPUT
    for unsure in result.inconclusive:
        console.print(f"[yellow]{unsure.message}[/]", highlight=False)
    if result.ok:
        unsure_note = f" ({len(result.inconclusive)} inconclusive)" if result.inconclusive else ""
        console.print(
            f"gate passed: {len(result.comparisons)} figures within tolerance of {args.baseline}{unsure_note}"
        )
        return EXIT_OK
    for regression in result.regressions:
        console.print(f"[bold red]{regression.message}[/]", highlight=False)
    names = ", ".join(regression.name for regression in result.regressions)
    console.print(
        f"[bold red]gate failed: {len(result.regressions)} regression(s): {names}[/]", highlight=False
    )
    return EXIT_REGRESSION


def _summary(args: argparse.Namespace) -> int:
    sys.stdout.write(render_markdown(_read_report(args.report, "report")))
    return EXIT_OK


def _read_report(path: Path, role: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise GateInputError(f"cannot read the {role} {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise GateInputError(f"the {role} {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise GateInputError(f"the {role} {path} must hold a JSON object (a harness report.json)")
    return data


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with EXIT_BAD_INPUT (argparse's own code is also 2; this keeps it explicit)."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="container-harness", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    gate = commands.add_parser(
        "compare", help="compare a report with a baseline report; exit 1 on regression"
    )
    gate.add_argument("--baseline", type=Path, required=True, help="baseline report.json")
    gate.add_argument("report", type=Path, help="report.json of the run to judge")
    gate.add_argument(
        "--tolerances", type=Path, help='TOML of [tolerance."figure"] tables overriding defaults'
    )
    gate.add_argument("--markdown", type=Path, help="also write the comparison as Markdown to this file")
    gate.set_defaults(run=_compare)
    summary = commands.add_parser("summary", help="print a report as Markdown (for $GITHUB_STEP_SUMMARY)")
    summary.add_argument("report", type=Path, help="report.json")
    summary.set_defaults(run=_summary)
    curve = commands.add_parser("curve", help="build the configured image and measure its latency-throughput curve")
    curve.add_argument("--config", type=Path, help="harness TOML (default: ./pyproject.toml [tool.harness])")
    curve.add_argument("--out", type=Path, help="directory for curve.json and the PNG (default: the report's)")
    curve.set_defaults(run=_curve)
    return parser


def _curve(args: argparse.Namespace) -> int:
    from container_harness.load.curve_job import curve_job  # engine and Locust parts only for this command

    figures = curve_job(Path.cwd(), args.config, args.out)
    console = Console()
    console.print(
        f"capacity {figures['capacity_rps']} req/s ({figures['capacity_users']} users, closed loop); "
        f"knee {figures['knee_rps']} req/s (p99 <= {figures['p99_limit_ms']} ms)"
    )
    for point in figures["points"]:
        console.print(
            f"{point['fraction']:>5.0%} offered {point['offered_rps']:>8} achieved {point['achieved_rps']:>8} "
            f"p50 {point['p50_ms']:>8} p95 {point['p95_ms']:>8} p99 {point['p99_ms']:>8} ms "
            f"errors {point['errors']} cpu {point['container_cpu_percent']} % {point['limited_by']}",
            highlight=False,
        )
    return EXIT_OK
