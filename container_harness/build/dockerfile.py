"""Which base images a Dockerfile needs, with ARG defaults and build-arg overrides applied (no Docker)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class BaseRef:
    """A base image reference and the build ARG it came from (None when the FROM line names it directly)."""

    image: str
    arg: str | None


def _instructions(dockerfile_text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile_text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, rest = full.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    if pending.strip():
        keyword, _, rest = pending.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


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
    """Per FROM line: the stage's name and the external image it rests on (a parent stage's, if built on one).

    None as the image means scratch.
    """
    global_args: dict[str, str] = {}
    stages: list[tuple[str | None, BaseRef | None]] = []
    named: dict[str, BaseRef | None] = {}
    seen_from = False
    for keyword, rest in _instructions(dockerfile_text):
        if keyword == "ARG" and not seen_from:
            name, has_default, default = rest.partition("=")
            name = name.strip()
            global_args[name] = build_args.get(name, default.strip().strip("\"'") if has_default else "")
        elif keyword == "FROM":
            seen_from = True
            words = [word for word in rest.split() if not word.startswith("--")]
            if not words:
                continue
            image, arg = _substitute(words[0], global_args)
            if image.lower() in named:
                ref = named[image.lower()]
            else:
                ref = None if image == "scratch" else BaseRef(image=image, arg=arg)
            stage = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            if stage:
                named[stage] = ref
            stages.append((stage, ref))
    return stages


def _substitute(word: str, variables: Mapping[str, str]) -> tuple[str, str | None]:
    """The word with $VAR / ${VAR} / ${VAR:-default} replaced, and the variable's name when exactly one."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        names.append(name)
        value = variables.get(name, "")
        if not value and match.group("default") is not None:
            return match.group("default")
        return value

    return _VARIABLE.sub(replace, word), names[0] if len(names) == 1 else None
