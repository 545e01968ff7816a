"""The pytest plugin without an engine: collection, order, selection, configuration errors, hooks, report."""

from __future__ import annotations

import inspect
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from container_harness.pytest_plugin.collect import check_of
from container_harness.pytest_plugin.github_summary import SESSION_PLUGIN

PYPROJECT = """
[tool.harness]
tag = "example/app:test"
budgets = "budgets.toml"
report = "out/report.json"
{extra}

[tool.harness.run]
port = 8080
"""

BUDGETS = """
[[budget]]
name = "image.size_bytes"
max = 100_000_000
unit = "bytes"

[[budget]]
name = "load.p95_ms"
max = 50
unit = "ms"

[[budget]]
name = "custom.answer"
max = 42
"""

USER_TEST = """
import pytest


@pytest.mark.container
def test_user_check(harness_results):
    harness_results.record("custom.answer", 41)
"""

# Docker-free stand-ins for the fixtures that would build: the checks' logic around them still runs.
BROKEN_BUILD = """
import pytest


@pytest.fixture(scope="session")
def build_timings():
    raise RuntimeError("the build broke")
"""

DEFAULT_ORDER = [
    "container-harness::full_build",
    "container-harness::cached_rebuild",
    "container-harness::image_size",
    "container-harness::image_config",
    "container-harness::wasted_bytes",
    "container-harness::startup",
    "container-harness::docker_health",
    "container-harness::idle_usage",
    "test_user.py::test_user_check",
    "container-harness::budgets[image.size_bytes]",
    "container-harness::budgets[load.p95_ms]",
    "container-harness::budgets[custom.answer]",
]


def _project(pytester: pytest.Pytester, extra: str = "") -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT.format(extra=extra), budgets=BUDGETS)
    pytester.makepyfile(test_user=USER_TEST)


def _collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", *args)
    return [line for line in result.outlines if "::" in line]


def test_checks_join_a_container_run_in_dependency_order_with_budgets_last(pytester: pytest.Pytester) -> None:
    _project(pytester)
    assert _collected(pytester, "-m", "container") == DEFAULT_ORDER
    assert _collected(pytester, "--harness") == DEFAULT_ORDER


def test_checks_stay_out_of_runs_that_do_not_ask_for_them(pytester: pytest.Pytester) -> None:
    _project(pytester)
    assert _collected(pytester) == ["test_user.py::test_user_check"]
    assert _collected(pytester, "-m", "not container") == []
    assert _collected(pytester, "-m", "not data") == ["test_user.py::test_user_check"]
    assert _collected(pytester, "-m", "container and not data") == DEFAULT_ORDER


def test_checks_the_configuration_supports_are_the_default(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        'code_change_path = "app.py"\n[tool.harness.volume]\nhost = "v"\ntarget = "/v"\ncheck_path = "/v"\n'
        "expect_json = { a = 1 }\n[tool.harness.load]\nlocustfile = 'locustfile.py'",
    )
    collected = _collected(pytester, "-m", "container")
    for added in ("code_change_rebuild", "volume_override", "load"):
        assert f"container-harness::{added}" in collected
    assert collected.index("test_user.py::test_user_check") < collected.index("container-harness::load")


def test_selection_by_option_or_configuration_keeps_the_dependency_order(pytester: pytest.Pytester) -> None:
    _project(pytester, 'checks = ["startup", "full_build"]')
    assert _collected(pytester, "-m", "container") == [
        "container-harness::full_build",
        "container-harness::startup",
        "test_user.py::test_user_check",
    ]
    assert _collected(pytester, "-m", "container", "--harness-checks", "image_size,full_build")[:2] == [
        "container-harness::full_build",
        "container-harness::image_size",
    ]


def test_check_items_come_from_a_module_of_the_selected_checks_alone(pytester: pytest.Pytester) -> None:
    _project(pytester)
    run = pytester.inline_run("--collect-only", "-p", "no:cacheprovider", "--harness-checks", "image_size,full_build")
    items = run.getcall("pytest_collection_finish").session.items
    checks = [(item, check) for item in items if (check := check_of(item)) is not None]
    assert [item.name for item, _ in checks] == ["full_build", "image_size"]
    for item, check in checks:
        assert isinstance(item, pytest.Function)
        assert item.function is check.function
        assert sorted(name for name in vars(item.module) if not name.startswith("__")) == ["full_build", "image_size"]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ("full_build,no_such_check", "*unknown check(s) no_such_check; the built-in checks are: full_build,*"),
        ("volume_override", "*cannot run the selected check(s): volume_override: there is no [[]volume[]] table*"),
    ],
    ids=["unknown", "unsupported"],
)
def test_a_wrong_selection_is_one_usage_error(pytester: pytest.Pytester, selection: str, message: str) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-checks", selection)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message, "*hint:*"])


def test_an_unknown_configuration_key_is_one_usage_error(pytester: pytest.Pytester) -> None:
    _project(pytester, 'helth_path = "/x"')
    result = pytester.runpytest("-p", "no:cacheprovider", "-m", "container")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*helth_path: Extra inputs are not permitted*"])


def test_unreachable_engine_fails_the_first_check_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-such.sock")
    result = pytester.runpytest("-p", "no:cacheprovider", "-m", "container")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of full_build*", "*cannot reach the Docker engine*"])
    assert "Traceback" not in result.stdout.str()


def test_checks_that_need_a_failed_check_are_blocked_by_it(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makeconftest(BROKEN_BUILD)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-m", "container", "-rs", "--harness-checks",
        "full_build,cached_rebuild,image_size,budgets",
    )  # fmt: skip
    result.assert_outcomes(passed=2, errors=1, skipped=4)
    result.stdout.fnmatch_lines(["collected 7 items"])
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]2[]] *blocked by full_build: RuntimeError: the build broke",
            "SKIPPED [[]1[]] *blocked by full_build: RuntimeError: the build broke",
            "*SKIPPED*load.p95_ms is not measured in this run: check load does not run (load.locustfile is not set)*",
        ]
    )


def test_turning_load_off_skips_its_budgets_instead_of_failing_them(pytester: pytest.Pytester) -> None:
    _project(pytester, "[tool.harness.load]\nlocustfile = 'locustfile.py'")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-rs", "--no-harness-load", "--harness-checks", "budgets", "test_user.py"
    )
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*image.size_bytes is not measured in this run: check image_size does not run (left out of the selected*",
            "*load.p95_ms is not measured in this run: check load does not run (load.enabled is false)*",
        ]
    )


def test_report_holds_recorded_figures_budgets_and_what_hooks_added(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makeconftest(
        """
seen = []


def pytest_harness_figure(config, name, value, unit):
    seen.append((name, value, unit))


def pytest_harness_environment(config, environment):
    environment["runner"] = {"pool": "gpu-less"}


def pytest_harness_update_report(config, report):
    report["figures_seen"] = seen
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-checks", "budgets", "test_user.py")
    result.assert_outcomes(passed=2, skipped=2)
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["custom"] == {"answer": 41}
    assert report["figures_seen"] == [["custom.answer", 41, None]]
    assert report["environment"]["runner"] == {"pool": "gpu-less"}
    assert report["environment"]["harness"]["checks"] == ["budgets"]
    assert [(b["name"], b["ok"]) for b in report["budgets"]] == [("custom.answer", True)]
    markdown = (pytester.path / "out" / "report.md").read_text()
    assert "custom.answer" in markdown


def test_the_summary_tables_are_as_wide_as_pytests_terminal_writer(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makeconftest(
        """
import pytest


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.get_terminal_writer().fullwidth = 36
"""
    )
    lines = pytester.runpytest("-p", "no:cacheprovider", "--harness-checks", "budgets", "test_user.py").outlines
    start = next(number for number, line in enumerate(lines) if "container harness" in line)
    end = next(number for number, line in enumerate(lines) if line.startswith("report: "))
    tables = lines[start + 1 : end]
    assert any("answer" in line for line in tables)
    assert max(len(line) for line in tables) <= 36


def test_the_job_summary_writer_appends_the_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _project(pytester)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.runpytest("-p", "no:cacheprovider", "test_user.py")
    text = summary.read_text()
    assert text.startswith("earlier step\n## Container harness report")
    assert "custom.answer" in text


def test_a_run_without_container_tests_changes_nothing_and_writes_no_report(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(
        test_plain="""
import signal


def test_untouched():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_plain.py")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "out").exists()
    assert "container harness" not in result.stdout.str()


def test_each_check_says_it_starts_unless_quiet(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makeconftest(BROKEN_BUILD)
    loud = pytester.runpytest("-p", "no:cacheprovider", "--harness-checks", "full_build,image_size")
    loud.stdout.fnmatch_lines(["container-harness: full_build (build)", "container-harness: image_size (inspect)"])
    quiet = pytester.runpytest("-p", "no:cacheprovider", "-q", "--harness-checks", "full_build,image_size")
    assert "container-harness: full_build" not in quiet.stdout.str()


def test_a_missing_config_file_is_one_usage_error_naming_the_plugins_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-m", "container", "--harness-config", "absent.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    missing = pytester.path / "absent.toml"
    result.stderr.fnmatch_lines(
        [f"*no harness configuration: {missing} does not exist*", "*or pass --harness-config FILE"]
    )


def test_a_run_in_a_project_without_harness_configuration_imports_no_engine_or_report_stack(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_light="""
        import sys

        def test_nothing_heavy_was_imported():
            heavy = ("docker", "testcontainers", "pydantic", "rich", "container_harness.pytest_plugin.session")
            assert [name for name in heavy if name in sys.modules] == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    _project(pytester)
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_light.py").ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(
    ("pyproject", "active"),
    [
        ('[tool.harness]\ntag = "app:test"\n', True),
        ('[tool]\nharness = { tag = "app:test" }\n', True),
        ("# our [tool.harness] table lives in harness.toml\n[tool.black]\nline-length = 100\n", False),
        ("[tool.harnessed]\nx = 1\n", False),
    ],
    ids=["table", "inline-table", "comment", "other-tool"],
)
def test_the_harness_joins_a_run_when_pyproject_holds_a_harness_table_as_toml_reads_it(
    pytester: pytest.Pytester, pyproject: str, active: bool
) -> None:
    pytester.makefile(".toml", pyproject=pyproject)
    run = pytester.inline_run("--collect-only", "-p", "no:cacheprovider")
    config = run.getcall("pytest_collection_finish").session.config
    assert config.pluginmanager.has_plugin(SESSION_PLUGIN) is active


@pytest.mark.parametrize("args", [("-m", "container"), ("--harness",), ()], ids=["marker", "option", "plain"])
def test_a_run_reads_pyproject_once_to_activate_choose_checks_and_configure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    _project(pytester)
    parsed: list[str] = []  # the modules of the harness that parsed pyproject.toml (pytest reads it too)
    loads = tomllib.loads

    def counted(text: str) -> dict[str, Any]:
        caller = inspect.currentframe()
        module = caller.f_back.f_globals["__name__"] if caller and caller.f_back else ""
        if "[tool.harness]" in text and module.startswith("container_harness"):
            parsed.append(module)
        return loads(text)

    monkeypatch.setattr(tomllib, "loads", counted)
    run = pytester.inline_run("-p", "no:cacheprovider", "-k", "test_user_check", *args)
    run.assertoutcome(passed=1)
    assert len(parsed) == 1, parsed


NOTING_TEST = """
import pytest


@pytest.mark.container
def test_user_check(harness_results):
    harness_results.note("health probed every 1 s, not at the image's interval")
    harness_results.note("health probed every 1 s, not at the image's interval")
"""


def test_a_note_is_also_a_pytest_warning_that_can_be_made_fatal(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", pyproject=PYPROJECT.format(extra=""))
    pytester.makepyfile(test_user=NOTING_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "test_user.py")
    result.assert_outcomes(passed=1)
    # HarnessNotes alone: in a long session other warnings (assertion rewriting, deprecations) may join them.
    assert result.stdout.str().count("HarnessNote:") == 1
    result.stdout.fnmatch_lines(["*HarnessNote: health probed every 1 s, not at the image's interval"])
    fatal = pytester.runpytest(
        "-p", "no:cacheprovider", "-W", "error::container_harness.pytest_plugin.notes.HarnessNote", "test_user.py"
    )
    fatal.assert_outcomes(failed=1)


ENGINE_TEST = """
import pytest


@pytest.mark.container
def test_user_engine_check(harness_session):
    raise AssertionError("reached the engine under pytest-xdist")
"""


def test_under_xdist_the_harness_turns_itself_off_with_one_note_and_writes_no_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-such.sock")  # a regression cannot reach an engine
    _project(pytester)
    pytester.makepyfile(test_engine=ENGINE_TEST)
    result = pytester.runpytest("-p", "xdist", "-n", "2", "-p", "no:cacheprovider", "-m", "container", "-rs")
    # No built-in check was collected on any worker: the user's two tests are all there is.
    result.assert_outcomes(passed=1, skipped=1)
    assert result.stdout.str().count("HarnessNote:") == 1
    result.stdout.fnmatch_lines(
        [
            "2 workers [[]2 items[]]",
            "*HarnessNote: the harness is off under pytest-xdist: its built-in checks are not collected*",
            "*= container harness =*",
            "note: the harness is off under pytest-xdist*",
            "SKIPPED [[]1[]] *the harness is off under pytest-xdist (see the note in the summary); run with -n 0",
        ]
    )
    assert result.stdout.str().count("the harness is off under pytest-xdist: its built-in") == 2  # warning, summary
    assert not (pytester.path / "out").exists()
    assert "container-harness::" not in result.stdout.str()


def test_with_n_0_the_harness_runs_as_without_xdist(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "xdist", "-n", "0", "-p", "no:cacheprovider", "--harness-checks", "budgets")
    result.assert_outcomes(passed=2, skipped=2)
    assert "pytest-xdist" not in result.stdout.str()
    assert (pytester.path / "out" / "report.json").is_file()
