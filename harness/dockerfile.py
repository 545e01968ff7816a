"""Which base images a Dockerfile needs, with ARG defaults and build-arg overrides applied (no Docker)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


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
    global_args: dict[str, str] = {}
    stages: set[str] = set()
    refs: list[BaseRef] = []
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
            ref = BaseRef(image=image, arg=arg)
            if image.lower() not in stages and image != "scratch" and ref not in refs:
                refs.append(ref)
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2].lower())
    return refs


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
