"""The plugin in a child pytest without an engine: what a run that measures nothing leaves behind."""

from __future__ import annotations

import pytest


def test_a_run_without_container_tests_writes_no_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_arithmetic():\n    assert 1 + 1 == 2\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()
    assert "container harness" not in result.stdout.str()
