"""Every function of container_harness/ stays short and simple: at most 60 lines and cyclomatic complexity 15
(radon's measure), unless the allow-list below says why not."""

from __future__ import annotations

import ast
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

import container_harness

PACKAGE = Path(container_harness.__file__).resolve().parent
MAX_LINES = 60
MAX_COMPLEXITY = 15

# "path/in/package.py::Qualified.name" -> why it may stay over the limits for now (none today).
ALLOWED: dict[str, str] = {}


def _line_counts(tree: ast.Module) -> dict[str, int]:
    """Each function's lines from its def to its last line (decorators left out), by qualified name."""
    counts: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    counts[name] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return counts


def _over_the_limits(source: str, module: str) -> dict[str, str]:
    """The functions of one module over either limit, with what they measure."""
    over: dict[str, list[str]] = {}
    for name, lines in _line_counts(ast.parse(source)).items():
        if lines > MAX_LINES:
            over.setdefault(f"{module}::{name}", []).append(f"{lines} lines")
    for block in cc_visit(source):
        if isinstance(block, Function) and block.complexity > MAX_COMPLEXITY:
            over.setdefault(f"{module}::{block.fullname}", []).append(f"complexity {block.complexity}")
    return {key: ", ".join(measures) for key, measures in over.items()}


def _everything_over_the_limits() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found.update(_over_the_limits(path.read_text(), path.relative_to(PACKAGE).as_posix()))
    return found


def test_no_function_is_over_60_lines_or_complexity_15_unless_allowed_with_a_reason() -> None:
    over = _everything_over_the_limits()
    unexplained = {key: measures for key, measures in over.items() if key not in ALLOWED}
    assert not unexplained, (
        "split these along what they do (or add them to ALLOWED with a one-sentence reason): "
        + "; ".join(f"{key} ({measures})" for key, measures in unexplained.items())
    )


def _probe(lines: int, branches: int) -> str:
    """A module with a function of `lines` lines and a method of complexity branches + 1."""
    body = "".join(f"    x{index} = {index}\n" for index in range(lines - 1))
    ifs = "".join(f"        if x == {index}:\n            return {index}\n" for index in range(branches))
    return f"def long():\n{body}\n\nclass Probe:\n    def branchy(self, x):\n{ifs}        return -1\n"


def test_the_measure_reports_61_lines_and_complexity_16_but_not_60_and_15() -> None:
    assert _over_the_limits(_probe(61, 15), "probe.py") == {
        "probe.py::long": "61 lines",
        "probe.py::Probe.branchy": "complexity 16",
    }
    assert _over_the_limits(_probe(60, 14), "probe.py") == {}
