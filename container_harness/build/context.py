"""What a build sends: the context's files after .dockerignore, their size, and paths that look like mistakes.

The file list comes from the docker SDK's own .dockerignore matcher (`exclude_paths`), the one its builds use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from docker.utils.build import exclude_paths

# Folders that are almost never meant to reach an image: environments, VCS data, caches, build output, reports.
SUSPICIOUS = (
    ".venv", "venv", "env", ".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".cache", "reports", "dist", "build", ".idea", ".vscode",
)  # fmt: skip
_WARN_MIN_BYTES = 1_000_000  # a suspicious folder smaller than this is not worth a warning


@dataclass(frozen=True)
class ContextSummary:
    """The build context as the builder receives it."""

    files: int
    bytes: int
    suspicious: list[tuple[str, int]]  # (top-level folder, bytes) that .dockerignore lets through

    def to_report(self) -> dict[str, object]:
        return {
            "context_files": self.files,
            "context_bytes": self.bytes,
            "context_suspicious": [{"path": path, "bytes": size} for path, size in self.suspicious],
        }

    def warning(self, context: Path) -> str | None:
        """A sentence naming the suspicious folders, or None."""
        if not self.suspicious:
            return None
        named = ", ".join(f"{path}/ ({size / 1e6:.1f} MB)" for path, size in self.suspicious)
        return (
            f"the build context {context} sends {named}, which look like mistakes; "
            "add them to .dockerignore (they slow every build and can break the cache)"
        )


def read_ignore_file(context: Path) -> list[str]:
    """The patterns of the context's .dockerignore (none when it has no such file)."""
    ignore_file = context / ".dockerignore"
    if not ignore_file.is_file():
        return []
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def summarize_context(context: Path, dockerfile: Path) -> ContextSummary:
    """Files and bytes that a build of `context` sends, and the suspicious folders among them."""
    source = context.resolve()
    relative = str(dockerfile.resolve().relative_to(source)) if dockerfile.resolve().is_relative_to(source) else None
    files = 0
    total = 0
    by_top: dict[str, int] = {}
    for name in exclude_paths(str(source), read_ignore_file(source), dockerfile=relative):
        path = source / name
        if path.is_dir() and not path.is_symlink():
            continue
        size = path.lstat().st_size
        files += 1
        total += size
        parts = Path(name).parts
        top = next((part for part in parts[:-1] if part in SUSPICIOUS or part.endswith(".egg-info")), None)
        if top is not None:
            key = "/".join(parts[: parts.index(top) + 1])
            by_top[key] = by_top.get(key, 0) + size
    suspicious = sorted(
        ((path, size) for path, size in by_top.items() if size >= _WARN_MIN_BYTES), key=lambda item: -item[1]
    )
    return ContextSummary(files=files, bytes=total, suspicious=suspicious)
