"""The `container-harness` command: `compare` (the stored-baseline gate), `summary` (Markdown of a report),
`curve` (the latency-throughput curve of the configured image), `ab` (same-run A/B of two images) and `trend`
(step changes in the A/B history).

Every command keeps one exit-code contract (container_harness.exit_codes): 0 fine, 1 a judged regression and
nothing else, 2 bad input or not comparable, 3 the harness failed. A harness error exits with its
`command_exit_code` (2 or 3); any other exception is unexpected (3): one line on stderr, its traceback in a file.
Ctrl-C or SIGTERM (a cancelled CI job) ends a command through its clean-up and exits 3 as well: no verdict was
reached, and 1 must keep meaning a judged regression.
`curve`, `ab` and `trend` need the `load` extra (Locust, matplotlib, scipy), so they import it only when chosen.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from container_harness import __version__
from container_harness.errors import ConfigNotFoundError, HarnessError, MissingExtraError
from container_harness.exit_codes import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS_FAILED,
    EXIT_OK,
    EXIT_REGRESSION,
    MEANINGS,
)
from container_harness.gate.baseline import gate_table
from container_harness.interrupts import sigterm_as_interrupt
from container_harness.jobs.report_commands import compare_reports, summary_markdown

# Import names of the `load` extra's packages (pyproject.toml [project.optional-dependencies] load).
LOAD_EXTRA = ("locust", "matplotlib", "scipy")
_CONFIG_OPTION = "--config"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m container_harness`; returns the contract's code."""
    args = _parser().parse_args(argv)
    try:
        with sigterm_as_interrupt():  # a cancelled job still removes what it made on the engine
            if args.extra:
                _require(args.command, "load", LOAD_EXTRA)
            code: int = args.run(args)
    except KeyboardInterrupt as exc:
        return _interrupted(args.command, exc)
    except ConfigNotFoundError as exc:
        return _fail(args.command, exc.for_option(_CONFIG_OPTION))
    except HarnessError as exc:
        return _fail(args.command, exc)
    except Exception as exc:  # the contract: an internal error exits 3, never 1
        return _internal_error(args.command, exc)
    return code


def _require(command: str, extra: str, modules: Sequence[str]) -> None:
    """Fail before any work when an optional extra's packages cannot be imported."""
    missing = [module for module in modules if not _importable(module)]
    if missing:
        raise MissingExtraError(command, extra, missing)


def _importable(module: str) -> bool:
    """Whether `import module` would find it (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a finder on sys.meta_path refused it
        return False


def _fail(command: str, exc: HarnessError) -> int:
    """Print a harness error (message and hint, no markup read into it) and return its exit code."""
    _stderr(Text.assemble((f"container-harness {command}: ", "bold red"), str(exc)))
    return exc.command_exit_code


def _interrupted(command: str, exc: KeyboardInterrupt) -> int:
    """One line saying what ended the command (its clean-up has run): the "harness failed" code, no verdict."""
    cause = str(exc) or "SIGINT"  # Python's own Ctrl-C handler raises it without arguments
    _stderr(Text.assemble((f"container-harness {command}: ", "bold red"), f"interrupted by {cause} (clean-up done)"))
    return EXIT_HARNESS_FAILED


def _internal_error(command: str, exc: Exception) -> int:
    """One line of cause on stderr, the traceback in a file it names: CI reads 3, never a regression."""
    with tempfile.NamedTemporaryFile("w", prefix="container-harness-", suffix=".traceback.txt", delete=False) as file:
        file.write("".join(traceback.format_exception(exc)))
    cause = (str(exc).splitlines() or [""])[0]
    _stderr(
        Text.assemble(
            (f"container-harness {command}: unexpected error: ", "bold red"),
            f"{type(exc).__name__}: {cause} (traceback in {file.name})",
        )
    )
    return EXIT_HARNESS_FAILED


def _stderr(text: Text) -> None:
    """Print to stderr unwrapped, so a one-line message stays one line in a narrow CI log."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(text)


def _compare(args: argparse.Namespace) -> int:
    result = compare_reports(args.baseline, args.report, args.tolerances, args.markdown)
    console = Console()
    console.print(gate_table(result))
    if not result.comparisons:
        console.print("[bold red]no figure of the baseline is covered by a tolerance: nothing was compared[/]")
        return EXIT_BAD_INPUT
    for unsure in result.inconclusive:
        console.print(Text(unsure.message, style="yellow"), highlight=False)
    if result.ok:
        unsure_note = f" ({len(result.inconclusive)} inconclusive)" if result.inconclusive else ""
        console.print(
            Text(f"gate passed: {len(result.comparisons)} figures within tolerance of {args.baseline}{unsure_note}")
        )
        return EXIT_OK
    for regression in result.regressions:
        console.print(Text(regression.message, style="bold red"), highlight=False)
    names = ", ".join(regression.name for regression in result.regressions)
    console.print(
        Text(f"gate failed: {len(result.regressions)} regression(s): {names}", style="bold red"), highlight=False
    )
    return EXIT_REGRESSION


def _summary(args: argparse.Namespace) -> int:
    sys.stdout.write(summary_markdown(args.report))
    return EXIT_OK


def _ab(args: argparse.Namespace) -> int:
    from container_harness.jobs.ab_command import AbRequest, run_command
    from container_harness.report.ab_render import ab_table

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
    result = run_command(request, lambda line: console.print(Text.assemble(("ab: ", "dim"), line), highlight=False))
    Console().print(ab_table(result.to_report()))
    for item in result.figures:
        if item.verdict == "inconclusive" and item.note:
            console.print(Text(f"{item.spec.name}: inconclusive: {item.note}"), highlight=False)
    return result.exit_code


def _trend(args: argparse.Namespace) -> int:
    from container_harness.jobs.trend import trend_history

    found, markdown = trend_history(args.history, args.last, args.threshold, args.markdown, args.plot)
    sys.stdout.write(markdown)
    steps = [trend.name for trend in found if trend.verdict == "regression"]
    return EXIT_REGRESSION if steps and args.fail_on_step else EXIT_OK


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with EXIT_BAD_INPUT (argparse's own code is also 2; this keeps it explicit)."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="container-harness",
        description="Gate, summarise, A/B and trend container images measured by the harness.",
        epilog=_exit_codes("a command judged a regression (see each command's --help)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    gate = _command(
        commands, "compare", "compare a report with a baseline report", "a figure is worse than its tolerance allows"
    )
    gate.add_argument("--baseline", type=Path, required=True, help="baseline report.json")
    gate.add_argument("report", type=Path, help="report.json of the run to judge")
    gate.add_argument("--tolerances", type=Path, help='TOML of [tolerance."figure"] tables overriding defaults')
    gate.add_argument("--markdown", type=Path, help="also write the comparison as Markdown to this file")
    gate.set_defaults(run=_compare)
    summary = _command(commands, "summary", "print a report as Markdown (for $GITHUB_STEP_SUMMARY)")
    summary.add_argument("report", type=Path, help="report.json")
    summary.set_defaults(run=_summary)
    curve = _command(
        commands, "curve", "build the configured image and measure its latency-throughput curve", extra=True
    )
    curve.add_argument(_CONFIG_OPTION, type=Path, help="harness TOML (default: ./pyproject.toml [tool.harness])")
    curve.add_argument("--out", type=Path, help="directory for curve.json and the PNG (default: the report's)")
    curve.set_defaults(run=_curve)
    _ab_parser(commands)
    trend = _command(
        commands,
        "trend",
        "draw the A/B history over time and flag step changes",
        "with --fail-on-step, a step change is a regression",
        extra=True,
    )
    trend.add_argument("history", type=Path, help="history as JSON Lines (written by `ab --history`)")
    trend.add_argument("--last", type=int, default=5, help="compare the last N runs with the N before (5)")
    trend.add_argument("--threshold", type=_fraction, default=0.05, help="relative change that counts (0.05)")
    trend.add_argument("--markdown", type=Path, help="also write the Markdown table to this file")
    trend.add_argument("--plot", type=Path, help="PNG of every figure over time (default: beside the history)")
    trend.add_argument("--fail-on-step", action="store_true", help="exit 1 when a step change is a regression")
    trend.set_defaults(run=_trend)
    return parser


def _command(
    commands: Any, name: str, summary: str, regression: str | None = None, *, extra: bool = False
) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with the exit codes it can return (1 only where it judges regressions)."""
    needs = "\nNeeds the load extra: pip install 'container-harness[load]'." if extra else ""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.{needs}",
        epilog=_exit_codes(regression),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(extra=extra)
    return parser


def _exit_codes(regression: str | None = None) -> str:
    """The exit-code table for --help; code 1 only where the command judges regressions, in its own words."""
    meanings = {code: meaning for code, meaning in MEANINGS.items() if code != EXIT_REGRESSION}
    if regression is not None:
        meanings[EXIT_REGRESSION] = regression
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in sorted(meanings.items()))


def _curve(args: argparse.Namespace) -> int:
    from container_harness.jobs.curve import curve_job  # engine and Locust parts only for this command

    figures = curve_job(Path.cwd(), args.config, args.out)
    console = Console(highlight=False)
    console.print(
        Text(
            f"capacity {figures['capacity_rps']} req/s ({figures['capacity_users']} users, closed loop); "
            f"knee {figures['knee_rps']} req/s (p99 <= {figures['p99_limit_ms']} ms)"
        )
    )
    for point in figures["points"]:
        console.print(
            Text(
                f"{point['fraction']:>5.0%} offered {point['offered_rps']:>8} achieved {point['achieved_rps']:>8} "
                f"p50 {point['p50_ms']:>8} p95 {point['p95_ms']:>8} p99 {point['p99_ms']:>8} ms "
                f"errors {point['errors']} cpu {point['container_cpu_percent']} % {point['limited_by']}"
            )
        )
    return EXIT_OK


def _ab_parser(commands: Any) -> None:
    """The `ab` subcommand's options."""
    ab = _command(
        commands,
        "ab",
        "same-run A/B of two images in ABBA rounds",
        "a judged figure is a regression (its interval lies above the threshold)",
        extra=True,
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
        _CONFIG_OPTION, type=Path, metavar="FILE", help="harness TOML (default: ./pyproject.toml [tool.harness])"
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
