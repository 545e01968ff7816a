"""The plugin's image: the configured image built and timed, then inspected, its figures recorded (build.*,
image.*), for the plugin's fixtures and checks to hand out and judge."""

from __future__ import annotations

from dataclasses import replace

from container_harness.build.timer import BuildTimings, time_builds
from container_harness.config import HarnessConfig, image_spec
from container_harness.image import layer_waste
from container_harness.image.inspect import ImageFacts, image_paths, inspect_image, matching
from container_harness.ownership import EngineSession
from container_harness.report.results import Results

_WASTED_FILES_REPORTED = 10


def timed_builds(engine: EngineSession, config: HarnessConfig, results: Results) -> BuildTimings:
    """Full, cached, code- and dependency-change builds of the configured image, timed; figures under build.*.

    A context holding folders that look like mistakes (a venv, .git, caches) is named in a note.
    """
    spec = image_spec(config)
    timings = time_builds(engine, spec, repeats=config.build_repeats)
    for name, value in timings.to_report().items():
        unit = "s" if name.endswith("_s") else "bytes" if name.endswith("_bytes") else None
        results.record(f"build.{name}", value, unit=unit)
    warning = timings.context.warning(spec.context) if timings.context else None
    if warning is not None:
        results.note(warning)
    return timings


def built_image(engine: EngineSession, config: HarnessConfig, timings: BuildTimings, results: Results) -> ImageFacts:
    """The built image's facts (size, base, layers, config); figures under image.*."""
    # By id: another build may move the tag meanwhile; the report still names the configured tag.
    image_id = (timings.cached or timings.full)[-1].image_id
    facts = replace(inspect_image(engine.client, image_id, timings.base_image), tag=config.tag)
    for name, value in facts.to_report().items():
        results.record(f"image.{name}", value, unit="bytes" if name.endswith("bytes") else None)
    return facts


def built_image_paths(engine: EngineSession, image: ImageFacts) -> set[str]:
    """Every path in the built image's final filesystem (read through a container labelled with the run)."""
    return image_paths(engine.client, image.id, labels=engine.labels())


def forbidden_found(paths: set[str], config: HarnessConfig) -> list[str]:
    """The image's paths that match a glob of expect.absent_globs."""
    return matching(paths, config.expect.absent_globs)


def wasted_bytes(engine: EngineSession, image: ImageFacts, results: Results) -> int:
    """Bytes that later layers overwrite or delete (dive's "wasted space"), recorded with the biggest offenders."""
    waste = layer_waste.wasted_bytes(layer_waste.layer_maps(engine.client, image.id))
    results.record("image.wasted_bytes", waste.total_bytes, unit="bytes")
    results.record(
        "image.wasted_files", [{"path": path, "bytes": size} for path, size in waste.files[:_WASTED_FILES_REPORTED]]
    )
    return waste.total_bytes
