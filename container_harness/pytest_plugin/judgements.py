"""The built-in checks' judgements as pure functions over measured figures: each returns the problem in words,
or None when the figure is as it should be. Kept apart from checks.py so each can be shown failing on made-up
figures without an engine."""

from __future__ import annotations

from collections.abc import Sequence

from container_harness.figures import format_figure


def smaller_than_base(size_bytes: int, base_image: str | None, base_size_bytes: int | None) -> str | None:
    """An image holds its base's layers, so it cannot be smaller: if it is, the base named is not its base."""
    if base_size_bytes is None or size_bytes >= base_size_bytes:
        return None
    return (
        f"image {format_figure(size_bytes, 'bytes')} is smaller than its base {base_image} "
        f"({format_figure(base_size_bytes, 'bytes')}): the tag now names another image than the build used"
    )


def waste_beyond_layers(wasted_bytes: int, layer_sizes: Sequence[int]) -> str | None:
    """Wasted bytes are files inside the layers, so the archive's count cannot exceed the engine's layer sizes."""
    total = sum(layer_sizes)
    if wasted_bytes <= total:
        return None
    return (
        f"{format_figure(wasted_bytes, 'bytes')} wasted, more than all {len(layer_sizes)} layers hold "
        f"({format_figure(total, 'bytes')}): the image archive was misread"
    )


def no_memory_reported(memory_bytes: int, container: str) -> str | None:
    """A running process uses memory: a zero means the engine's stats carry no memory figures to report."""
    if memory_bytes > 0:
        return None
    return (
        f"the engine reported no memory use for {container}: its stats carry no memory figures (the cgroup "
        "memory controller is off or not delegated), so memory.idle_bytes cannot be measured here"
    )


def runs_as_root(user: str) -> str | None:
    """An image without USER, or whose USER names root or uid 0, runs its process as root."""
    name = user.strip().split(":", 1)[0]
    if name not in ("", "root", "0"):
        return None
    return f"the image runs as root (USER {user!r}): add a USER instruction"


def lacks_healthcheck(tag: str, healthcheck: object) -> str | None:
    """Docker reports a container's health only when its image declares a HEALTHCHECK."""
    if healthcheck:
        return None
    return f"{tag} declares no HEALTHCHECK, so Docker never reports it healthy: add one"


def enforced(finding: str, policy: str) -> str:
    """A breach of a policy that is on, with the one configuration line that waives it."""
    return f"{finding}, or waive the policy with `[tool.harness.policy] {policy} = false`"


def not_enforced(finding: str, policy: str) -> str:
    """A breach of a policy that is off, with the one configuration line that makes it fail."""
    return f"{finding} (not enforced: `[tool.harness.policy] {policy} = true` makes this a failure)"
