"""Which base images a Dockerfile needs, with ARG defaults and build-arg overrides applied (no Docker).

dockerfile-parse reads the file (line continuations, `# escape=`, several `ARG`s on one line, quotes) and
expands the global ARGs in each FROM; this module only follows `FROM <stage>` chains and names the ARG a base
image came from, so a provider's image can be passed back as that build arg.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser
from dockerfile_parse.parser import image_from

from container_harness.errors import DockerfileError

# A variable reference in a FROM word: what `BaseRef.arg` names (dockerfile-parse expands, but never says which).
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
# Left over after expansion when a FROM word used a form dockerfile-parse does not expand (`${VAR:-default}`).
_UNEXPANDED = re.compile(r"[${}]")


@dataclass(frozen=True)
class BaseRef:
    """A base image reference and the build ARG it came from (None when the FROM line names it directly)."""

    image: str
    arg: str | None


def read_dockerfile(path: Path) -> str:
    """The Dockerfile's text; DockerfileError (bad input, exit 2) naming the file when it is missing or unreadable."""
    try:
        return path.read_text()
    except OSError as exc:
        raise DockerfileError(
            f"cannot read the Dockerfile {path}: {exc.strerror or exc}",
            hint="check `dockerfile` (and `classic_dockerfile`) in [tool.harness]: paths are relative to the "
            "configuration's folder",
        ) from exc


def base_images(dockerfile_text: str, build_args: Mapping[str, str]) -> list[BaseRef]:
    """Images the FROM lines pull in, in order and without repeats; stage names and scratch are skipped."""
    refs: list[BaseRef] = []
    for _, ref in _stages(dockerfile_text, build_args):
        if ref is not None and ref not in refs:
            refs.append(ref)
    return refs


def final_base_image(dockerfile_text: str, build_args: Mapping[str, str], target: str | None = None) -> BaseRef | None:
    """The image the built stage (the target, else the last) rests on, following `FROM <stage>` chains.

    None when that stage starts from scratch. This is the base the image's size is measured above.
    """
    stages = _stages(dockerfile_text, build_args)
    if target:
        return next((ref for name, ref in stages if name == target.lower()), None)
    return stages[-1][1] if stages else None


def stage_names(dockerfile_text: str, build_args: Mapping[str, str]) -> list[str]:
    """The stages in Dockerfile order, named as BuildKit names them (`stage-<index>` when unnamed)."""
    return [name or f"stage-{index}" for index, (name, _) in enumerate(_stages(dockerfile_text, build_args))]


def _stages(dockerfile_text: str, build_args: Mapping[str, str]) -> list[tuple[str | None, BaseRef | None]]:
    """Per FROM line: the stage's name (lower case) and the external image it rests on (a parent stage's, if
    built on one); None as the image means scratch."""
    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode()), build_args=dict(build_args))
    froms = [image_from(item["value"]) for item in parser.structure if item["instruction"] == "FROM"]
    written = [(image, stage) for image, stage in froms if image is not None]
    stages: list[tuple[str | None, BaseRef | None]] = []
    named: dict[str, BaseRef | None] = {}
    for (raw, stage), image in zip(written, parser.parent_images, strict=True):
        if _UNEXPANDED.search(image):
            raise DockerfileError(f"cannot resolve the base image of `FROM {raw}`: it expands to {image!r}")
        if image.lower() in named:
            ref = named[image.lower()]
        else:
            variables = _VARIABLE.findall(raw)
            ref = None if image == "scratch" else BaseRef(image, variables[0] if len(variables) == 1 else None)
        if stage:
            named[stage.lower()] = ref
        stages.append((stage.lower() if stage else None, ref))
    return stages
