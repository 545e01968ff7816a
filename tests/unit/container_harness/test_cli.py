"""The `container-harness` command through `python -m container_harness`: output and exit codes."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from container_harness import __version__
from container_harness.cli import LOAD_EXTRA

ROOT = Path(__file__).resolve().parents[3]


def _harness(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return _python(["-m", "container_harness", *map(str, args)], columns=200)


def _python(args: list[str], columns: int) -> subprocess.CompletedProcess[str]:
    """This interpreter run with `args` from the repository, in a terminal `columns` wide."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": str(columns), "PATH": "/usr/bin:/bin"},
    )


def _write(path: Path, report: dict[str, Any]) -> Path:
    path.write_text(json.dumps(report))
    return path


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "report.json",
        {
            "image": {"tag": "api:latest", "size_bytes": 420_000_000},
            "load": {"rps": 1000.0, "p95_ms": 8.0, "failures": 0},
            "units": {"image.size_bytes": "bytes", "load.p95_ms": "ms"},
        },
    )


def test_report_against_itself_exits_0(report: Path) -> None:
    run = _harness("compare", "--baseline", report, report)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gate passed: 4 figures" in run.stdout
    assert "regression gate" in run.stdout


def test_three_times_better_baseline_exits_1_naming_the_figures(report: Path, tmp_path: Path) -> None:
    better = json.loads(report.read_text())
    better["load"].update(rps=3000.0, p95_ms=8.0 / 3)
    baseline = _write(tmp_path / "baseline.json", better)
    run = _harness("compare", "--baseline", baseline, report)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "gate failed: 2 regression(s): load.rps, load.p95_ms" in run.stdout


def test_tolerances_file_and_markdown_output(report: Path, tmp_path: Path) -> None:
    slower = json.loads(report.read_text())
    slower["load"]["p95_ms"] = 11.0
    measured = _write(tmp_path / "slower.json", slower)
    tolerances = tmp_path / "tolerances.toml"
    tolerances.write_text('[tolerance."load.p95_ms"]\nrelative = 0.5\n')
    markdown = tmp_path / "summary.md"
    assert _harness("compare", "--baseline", report, measured).returncode == 1
    run = _harness(
        "compare", "--baseline", report, measured, "--tolerances", tolerances, "--markdown", markdown
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert markdown.read_text().startswith("### Regression gate passed")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the report"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
    ],
)
def test_unreadable_report_exits_2_with_a_message(
    report: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    broken = tmp_path / "broken.json"
    if content is not None:
        broken.write_text(content)
    run = _harness("compare", "--baseline", report, broken)
    assert run.returncode == 2
    assert message in run.stderr


def test_a_missing_report_gets_a_hint_with_the_path_looked_for(report: Path, tmp_path: Path) -> None:
    run = _harness("compare", "--baseline", report, tmp_path / "absent.json")
    assert run.returncode == 2
    assert f"hint: check the path ({tmp_path / 'absent.json'}); a harness run writes" in run.stderr


def test_baseline_without_covered_figures_exits_2(report: Path, tmp_path: Path) -> None:
    empty = _write(tmp_path / "empty.json", {"load": {"users": 10}})
    run = _harness("compare", "--baseline", empty, report)
    assert run.returncode == 2
    assert "nothing was compared" in run.stdout


def test_usage_error_exits_2() -> None:
    run = _harness("compare")
    assert run.returncode == 2
    assert "--baseline" in run.stderr


def test_summary_prints_the_reports_markdown(report: Path) -> None:
    run = _harness("summary", report)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("## Container harness report")
    assert "| `load.p95_ms` | 8 ms |" in run.stdout


def _history(path: Path, p95: list[float]) -> Path:
    """A JSON Lines history of nights whose load.p95_ms took these values."""
    lines = [
        json.dumps(
            {
                "date": f"2026-11-{night + 1:02d}",
                "sha": f"c{night}",
                "figures": {"load.p95_ms": {"value": value, "unit": "ms", "better": "smaller"}},
            }
        )
        for night, value in enumerate(p95)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trend_flags_a_step_writing_markdown_and_png(tmp_path: Path) -> None:
    history = _history(tmp_path / "history.jsonl", [8.0, 8.1, 7.9, 8.0, 9.6, 9.7, 9.5, 9.6])
    run = _harness("trend", history, "--last", "4", "--markdown", tmp_path / "trend.md", "--fail-on-step")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "| load.p95_ms | 8 | 9.6 ms | 1.2" in run.stdout
    assert (tmp_path / "trend.md").read_text() == run.stdout
    assert (tmp_path / "history.png").stat().st_size > 10_000
    assert _harness("trend", history, "--last", "4").returncode == 0


def test_trend_of_a_missing_history_exits_2(tmp_path: Path) -> None:
    run = _harness("trend", tmp_path / "absent.jsonl")
    assert run.returncode == 2
    assert "cannot read the history" in run.stderr
    hint = f"hint: `container-harness ab --history PATH` writes it; check the path ({tmp_path / 'absent.jsonl'})"
    assert hint in run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["ab", "--candidate", "x"],  # no baseline at all
        ["ab", "--baseline", "a", "--baseline-ref", "main"],  # both
        ["ab", "--baseline", "a", "--rounds", "1"],
        ["ab", "--baseline", "a", "--threshold", "5"],
    ],
)
def test_ab_usage_errors_exit_2(args: list[str]) -> None:
    run = _harness(*args)
    assert run.returncode == 2
    assert "error:" in run.stderr


# Runs the command in a process whose imports of matplotlib and locust fail, as without the `load` extra.
WITHOUT_LOAD_EXTRA = """
import sys


class WithoutLoadExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("matplotlib", "locust"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, WithoutLoadExtra())
from container_harness.cli import main

sys.exit(main())
"""


@pytest.mark.parametrize(
    "args", [["ab", "--baseline", "api:1"], ["curve"], ["trend", "history.jsonl"]], ids=["ab", "curve", "trend"]
)
def test_a_command_without_the_load_extra_says_so_in_one_line_and_exits_3(args: list[str]) -> None:
    run = _python(["-c", WITHOUT_LOAD_EXTRA, *args], columns=80)
    assert run.returncode == 3, run.stdout + run.stderr
    assert run.stderr.splitlines() == [
        f"container-harness {args[0]}: `{args[0]}` needs the [load] extra (locust, matplotlib not installed): "
        "pip install 'container-harness[load]' (from a file: pip install '<wheel or checkout>[load]')"
    ]


def test_the_load_extra_named_by_the_command_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["load"]
    assert sorted(re.split(r"[<>=!~; \[]", requirement)[0] for requirement in declared) == sorted(LOAD_EXTRA)


def test_a_missing_config_file_exits_2_naming_the_path_and_the_commands_option(tmp_path: Path) -> None:
    run = _harness("curve", "--config", tmp_path / "absent.toml")
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"no harness configuration: {tmp_path / 'absent.toml'} does not exist" in run.stderr
    assert f"hint: create {tmp_path / 'absent.toml'} with a [tool.harness] table" in run.stderr
    assert "or pass --config FILE" in run.stderr
    assert "--harness-config" not in run.stderr


def test_an_unexpected_error_exits_3_with_one_line_and_the_tracebacks_file(report: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    run = _harness("compare", "--baseline", report, report, "--markdown", tmp_path / "a-file" / "gate.md")
    assert run.returncode == 3, run.stdout + run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith("container-harness compare: unexpected error: FileExistsError: ")
    traceback_file = Path(line.rsplit("(traceback in ", 1)[1].rstrip(")"))
    assert "Traceback (most recent call last)" in traceback_file.read_text()
    traceback_file.unlink()


def test_version_comes_from_the_package() -> None:
    run = _harness("--version")
    assert (run.returncode, run.stdout) == (0, f"container-harness {__version__}\n")


def test_the_distributions_version_is_read_from_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "container_harness.__version__"}


@pytest.mark.parametrize(
    ("command", "judges_regressions"),
    [("compare", True), ("summary", False), ("curve", False), ("ab", True), ("trend", True)],
)
def test_every_commands_help_lists_its_exit_codes(command: str, judges_regressions: bool) -> None:
    run = _harness(command, "--help")
    assert run.returncode == 0
    codes = [line.split()[0] for line in run.stdout.split("exit codes:\n", 1)[1].splitlines()]
    assert codes == (["0", "1", "2", "3"] if judges_regressions else ["0", "2", "3"])


def test_top_level_help_describes_the_tool_in_a_whole_sentence_and_lists_the_exit_codes() -> None:
    run = _harness("--help")
    assert "Gate, summarise, A/B and trend container images measured by the harness.\n" in run.stdout
    assert "exit codes:\n  0  fine" in run.stdout


def _blocked_on(fifo: Path, process: subprocess.Popen[str]) -> int:
    """Wait until the command has opened the FIFO to read it; return our (silent) writing end, which keeps its
    read() waiting: the command is then mid-way through its work, where a cancelled CI job would find it."""
    for _ in range(1200):  # a minute: the command imports its stack (Locust for curve) before it reads
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO or process.poll() is not None:
                raise
            time.sleep(0.05)
    raise TimeoutError(f"nobody opened {fifo} to read it")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize(
    "args",
    [
        ["compare", "--baseline", "{fifo}", "{fifo}"],
        ["curve", "--config", "{fifo}"],
        ["ab", "--baseline", "api:1", "--config", "{fifo}"],
        ["trend", "{fifo}"],
    ],
    ids=["compare", "curve", "ab", "trend"],
)
def test_a_command_ended_by_a_signal_says_so_in_one_line_and_exits_3(
    args: list[str], signum: signal.Signals, tmp_path: Path
) -> None:
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "container_harness", *(arg.format(fifo=fifo) for arg in args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    writer = _blocked_on(fifo, process)
    try:
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(writer)
    assert process.returncode == 3, stdout + stderr
    assert stderr.splitlines() == [f"container-harness {args[0]}: interrupted by {signum.name} (clean-up done)"]
