"""The commands that work on written reports, as jobs: `compare` (a report against a stored baseline) and
`summary` (a report as Markdown). They read files, call the gate and the report stages and write the requested
outputs; the CLI only prints and picks the exit code. Nothing here needs the `load` extra."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from container_harness.errors import GateInputError
from container_harness.gate.baseline import GateResult, compare, gate_markdown, load_tolerances
from container_harness.report.render import render_markdown


def read_report(path: Path, role: str) -> dict[str, Any]:
    """A report.json as a dict; GateInputError (bad input) naming the file when it is unreadable or not one."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise GateInputError(
            f"cannot read the {role} {path}: {exc.strerror or exc}",
            hint=f"check the path ({path.resolve()}); a harness run writes reports/report.json by default",
        ) from exc
    except json.JSONDecodeError as exc:
        raise GateInputError(f"the {role} {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise GateInputError(f"the {role} {path} must hold a JSON object (a harness report.json)")
    return data


def compare_reports(baseline: Path, report: Path, tolerances: Path | None, markdown: Path | None) -> GateResult:
    """The report judged against the baseline under the tolerances; the Markdown table written when asked."""
    result = compare(read_report(baseline, "baseline"), read_report(report, "report"), load_tolerances(tolerances))
    if markdown is not None:
        write_text(markdown, gate_markdown(result))
    return result


def summary_markdown(report: Path) -> str:
    """The report as Markdown (for $GITHUB_STEP_SUMMARY)."""
    return render_markdown(read_report(report, "report"))


def write_text(path: Path, text: str) -> None:
    """Write text to path, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
