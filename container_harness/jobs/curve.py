"""The latency-throughput curve as a job: the configured curve against a running container, with its picture
(the plugin's check), and `container-harness curve` end to end: build the configured image (through the cache),
run it, measure its curve and write curve.json and latency_curve.png; everything the run made is removed (the
image kept with keep_image)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from container_harness.build.timer import build_current
from container_harness.config import LoadConfig, image_spec, load_config, load_pinning, load_spec, run_spec
from container_harness.engine import connect
from container_harness.load.curve import run_curve
from container_harness.ownership import new_session
from container_harness.report.curve_plot import plot_curve
from container_harness.run.container import RunningContainer, start_container
from container_harness.specs import LoadSpec

_log = logging.getLogger(__name__)


def measure_curve(
    running: RunningContainer, spec: LoadSpec, load: LoadConfig, reports: Path, tag: str
) -> tuple[dict[str, Any], Path]:
    """The configured curve against a running container: its figures (Curve.to_report()) and its PNG."""
    curve = run_curve(
        running,
        spec,
        reports / "curve",
        fractions=load.curve_fractions,
        p99_limit_ms=load.curve_p99_limit_ms,
        pin_proxy=load.pin_proxy,
    )
    figures = curve.to_report()
    png = plot_curve(figures, reports / "latency_curve.png", f"{tag}: latency against offered rate")
    return figures, png


def curve_job(rootdir: Path, config_file: Path | None, out_dir: Path | None) -> dict[str, Any]:
    """The curve's figures, also written to out_dir (default: the report's directory) as curve.json."""
    config = load_config(rootdir, config_file)
    load = config.load
    spec = load_spec(config)
    reports = out_dir or config.report_path.parent
    session = new_session(connect(), keep=config.keep)
    try:
        _log.info("curve: building %s", config.tag)
        image = build_current(session, image_spec(config)).image_id
        with start_container(session, image, run_spec(config, **load_pinning(config))) as running:
            figures, png = measure_curve(running, spec, load, reports, config.tag)
    finally:
        session.cleanup(keep_images=[config.tag] if config.keep_image else [])
    figures["png"] = str(png)
    (reports / "curve.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures
