"""The nightly history (JSON Lines, one A/B report per line) and its trend: a step change is the last N runs
against the N before, judged with the A/B's statistics (an unpaired interval on the logs, same verdicts)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from container_harness.errors import GateInputError
from container_harness.gate.ab_stats import Better, Interval, Settings, Verdict, unpaired_interval, verdict_of

_HISTORY_HINT = "each line is one JSON object with `figures`, as `container-harness ab --history` writes it"


@dataclass(frozen=True)
class Trend:
    """One figure over the history: its values (oldest first) and the step-change verdict of the last N."""

    name: str
    unit: str
    better: Better
    dates: list[str]
    values: list[float]
    interval: Interval | None
    verdict: Verdict
    note: str | None


def history_entry(ab: Mapping[str, Any], *, sha: str, date: str, harness_version: str) -> dict[str, Any]:
    """One history line: the candidate's figures (medians over rounds), verdicts, commit, date, runner facts."""
    return {
        "date": date,
        "sha": sha,
        "harness_version": harness_version,
        "runner": dict(ab.get("environment", {})),
        "baseline": ab["baseline"]["ref"],
        "candidate": ab["candidate"]["ref"],
        "figures": {
            name: {"value": figure["candidate"], "unit": figure["unit"], "better": figure["better"]}
            for name, figure in ab["figures"].items()
        },
        "exact": {name: {"value": figure["candidate"], "unit": figure["unit"]} for name, figure in ab["exact"].items()},
        "verdicts": {name: figure["verdict"] for name, figure in {**ab["figures"], **ab["exact"]}.items()},
    }


def append_history(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one line (the file and its folder are created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as history:
        history.write(json.dumps(entry, sort_keys=True) + "\n")


def read_history(path: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first; GateInputError naming the line that is not a JSON object."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise GateInputError(
            f"cannot read the history {path}: {exc.strerror or exc}",
            hint=f"`container-harness ab --history PATH` writes it; check the path ({path.resolve()})",
        ) from exc
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GateInputError(f"{path} line {number} is not JSON: {exc}", hint=_HISTORY_HINT) from exc
        if not isinstance(entry, dict) or not isinstance(entry.get("figures"), dict):
            raise GateInputError(
                f"{path} line {number} is not a history entry (an object with `figures`)", hint=_HISTORY_HINT
            )
        entries.append(entry)
    return entries


def trends(entries: Sequence[Mapping[str, Any]], last: int, settings: Settings) -> list[Trend]:
    """Every judged figure of the history with the verdict of its last `last` runs against the `last` before."""
    if last < 2:
        raise GateInputError(
            f"a step change needs at least 2 runs per window, got --last {last}", hint="pass --last 2 or more"
        )
    names = list(dict.fromkeys(name for entry in entries for name in entry["figures"]))
    found = []
    for name in names:
        points = [(entry["date"], entry["figures"][name]) for entry in entries if name in entry["figures"]]
        values = [float(figure["value"]) for _, figure in points]
        unit, better = points[-1][1]["unit"], points[-1][1]["better"]
        interval: Interval | None = None
        if len(values) < 2 * last:
            verdict: Verdict = "inconclusive"
            note: str | None = f"{len(values)} runs, a step change needs {2 * last}"
        elif min(values[-2 * last :]) <= 0:
            verdict, note = "inconclusive", "values at or below zero have no ratio"
        else:
            interval = unpaired_interval(values[-2 * last : -last], values[-last:], settings.confidence)
            verdict = verdict_of(interval, better, settings)
            note = None
        found.append(Trend(name, unit, better, [date for date, _ in points], values, interval, verdict, note))
    return found
