"""The build context as the builder receives it: files, bytes, and folders that look like mistakes."""

from __future__ import annotations

from pathlib import Path

from container_harness.build.context import summarize_context


def _context(tmp_path: Path, ignore: str | None) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    venv = tmp_path / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "big.so").write_bytes(b"\0" * 3_000_000)
    (tmp_path / "src" / "__pycache__").mkdir(parents=True)
    (tmp_path / "src" / "__pycache__" / "x.pyc").write_bytes(b"\0" * 10)
    if ignore is not None:
        (tmp_path / ".dockerignore").write_text(ignore)
    return tmp_path


def test_an_unignored_venv_is_counted_and_named(tmp_path: Path) -> None:
    context = _context(tmp_path, None)
    summary = summarize_context(context, context / "Dockerfile")
    assert summary.files == 4
    assert summary.bytes == 3_000_000 + 10 + len("print('hi')\n") + len("FROM scratch\nCOPY app.py /\n")
    assert summary.suspicious == [(".venv", 3_000_000)]  # the 10-byte cache is too small to warn about
    warning = summary.warning(context)
    assert warning is not None
    assert ".venv/ (3.0 MB)" in warning
    assert ".dockerignore" in warning


def test_dockerignore_keeps_it_out_and_silences_the_warning(tmp_path: Path) -> None:
    context = _context(tmp_path, "# environments\n.venv\n**/__pycache__\n")
    summary = summarize_context(context, context / "Dockerfile")
    assert (summary.files, summary.suspicious) == (3, [])
    assert summary.warning(context) is None
