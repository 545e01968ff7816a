"""The `container-harness` command: `compare` (the stored-baseline gate), `summary` (Markdown of a report),
`curve` (the latency-throughput curve of the configured image), `ab` (same-run A/B of two images) and `trend`
(step changes in the A/B history).

Exit codes: 0 ok, 1 regression, 2 unreadable input, wrong usage or a comparison that cannot be made fairly.
`ab` and `trend` need the `load` extra (Locust, matplotlib, scipy), so they import it only when chosen.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
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


def _ab(args: argparse.Namespace) -> int:
    from container_harness.jobs.ab_command import AbRequest, run_command
    from container_harness.report.ab_render import ab_table

    signal.signal(signal.SIGTERM, _interrupt)  # a cancelled CI job still removes what the run created
    console = Console(stderr=True)
    request = AbRequest(
        config_file=args.config,
        baseline=args.baseline,
        baseline_ref=args.baseline_ref,
        baseline_config=args.baseline_config,
        candidate=args.candidate,
        rounds=args.rounds,
        threshold=args.threshold,
        report=args.report,
        markdown=args.markdown,
        plot=args.plot,
        benchmark_dir=args.benchmark_dir,
        history=args.history,
        keep=args.keep,
    )
    result = run_command(request, lambda line: console.print(f"[dim]ab:[/] {line}", highlight=False))
    Console().print(ab_table(result.to_report()))
    for item in result.figures:
        if item.verdict == "inconclusive" and item.note:
            console.print(f"{item.spec.name}: inconclusive: {item.note}", highlight=False)
    return result.exit_code


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as Ctrl-C, so the A/B's clean-up (finally blocks) runs."""
    raise KeyboardInterrupt


def _trend(args: argparse.Namespace) -> int:
    from container_harness.gate.ab_stats import Settings
    from container_harness.gate.history import read_history, trends
    from container_harness.report.trend_render import plot_trends, trend_markdown

    found = trends(read_history(args.history), args.last, Settings(threshold=args.threshold))
    if not found:
        raise GateInputError(f"the history {args.history} holds no entry")
    markdown = trend_markdown(found, args.last)
    sys.stdout.write(markdown)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)
    plot_trends(found, args.plot or args.history.with_suffix(".png"), args.last)
    steps = [trend.name for trend in found if trend.verdict == "regression"]
    return EXIT_REGRESSION if steps and args.fail_on_step else EXIT_OK


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
    _ab_parser(commands)
    trend = commands.add_parser("trend", help="draw the A/B history over time and flag step changes")
    trend.add_argument("history", type=Path, help="history as JSON Lines (written by `ab --history`)")
    trend.add_argument("--last", type=int, default=5, help="compare the last N runs with the N before (5)")
    trend.add_argument("--threshold", type=_fraction, default=0.05, help="relative change that counts (0.05)")
    trend.add_argument("--markdown", type=Path, help="also write the Markdown table to this file")
    trend.add_argument("--plot", type=Path, help="PNG of every figure over time (default: beside the history)")
    trend.add_argument("--fail-on-step", action="store_true", help="exit 1 when a step change is a regression")
    trend.set_defaults(run=_trend)
    return parser


def _curve(args: argparse.Namespace) -> int:
    from container_harness.jobs.curve import curve_job  # engine and Locust parts only for this command

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


def _ab_parser(commands: Any) -> None:
    """The `ab` subcommand's options."""
    ab = commands.add_parser(
        "ab", help="same-run A/B of two images in ABBA rounds; exit 1 on regression, 2 on bad input"
    )
    baseline = ab.add_mutually_exclusive_group(required=True)
    baseline.add_argument("--baseline", metavar="IMAGE", help="baseline image (tag or id) on the engine")
    baseline.add_argument(
        "--baseline-ref", metavar="GIT_REF", help="build the baseline from this commit with the same build settings"
    )
    ab.add_argument(
        "--candidate", metavar="IMAGE", help="candidate image (default: built from the working tree's context)"
    )
    ab.add_argument(
        "--config", type=Path, metavar="FILE", help="harness TOML (default: ./pyproject.toml [tool.harness])"
    )
    ab.add_argument(
        "--baseline-config",
        type=Path,
        metavar="FILE",
        help="the baseline's own config: refused unless its run settings match",
    )
    ab.add_argument("--rounds", type=_rounds, metavar="N", help="ABBA rounds (default: [tool.harness.ab] rounds)")
    ab.add_argument(
        "--threshold", type=_fraction, metavar="FRACTION", help="relative change that counts (default: ab.threshold)"
    )
    ab.add_argument(
        "--report", type=Path, metavar="PATH", default=Path("reports/ab.json"), help="JSON with the `ab` section"
    )
    ab.add_argument("--markdown", type=Path, metavar="PATH", help="Markdown table (default: beside the report)")
    ab.add_argument(
        "--plot", type=Path, metavar="PATH", help="PNG of every round's values (default: beside the report)"
    )
    ab.add_argument(
        "--benchmark-dir", type=Path, metavar="DIR", help="write github-action-benchmark custom*IsBetter JSON here"
    )
    ab.add_argument("--history", type=Path, metavar="PATH", help="append this run to a JSON Lines history")
    ab.add_argument("--keep", action="store_true", help="keep the containers and built images (debugging)")
    ab.set_defaults(run=_ab)


def _rounds(text: str) -> int:
    """argparse type: an integer of 2 or more (an interval needs two rounds)."""
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"needs 2 or more, got {value}")
    return value


def _fraction(text: str) -> float:
    """argparse type: a fraction within (0, 1), such as 0.05 for 5 %."""
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"a fraction within (0, 1) such as 0.05, got {value}")
    return value
