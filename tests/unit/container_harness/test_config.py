"""Harness configuration: sources, precedence, path resolution and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.config import image_spec, load_config, load_pinning, load_spec, run_spec
from container_harness.errors import ConfigError
from container_harness.specs import HEALTH_PATH_ENV, LoadSpec

REPO = Path(__file__).resolve().parents[3]
MINIMAL = 'tag = "tiny:test"\n[run]\nport = 8080\nhealth_path = "/healthz"\n'


def test_repo_pyproject_configures_the_api_image() -> None:
    config = load_config(REPO)
    assert config.tag == "energy-optimization-api:latest"
    assert config.keep_image
    assert image_spec(config).dockerfile == REPO / "Dockerfile.api"
    assert (config.builder, image_spec(config).classic_dockerfile) == ("auto", REPO / "Dockerfile.api.classic")
    assert image_spec(config).dependency_change_path == "requirements-api.txt"
    assert config.budgets_path == REPO / "benchmarks" / "budgets.toml"
    assert config.volume is not None
    assert config.path(config.volume.host) == REPO / "models" / "onnx"


def test_pyproject_table_is_read_from_the_rootdir(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.harness]\n" + MINIMAL.replace("[run]", "[tool.harness.run]")
    )
    config = load_config(tmp_path)
    assert (config.tag, config.run.port, config.run.health_path) == ("tiny:test", 8080, "/healthz")
    assert config.report_path == tmp_path / "reports" / "report.json"
    assert config.markdown_path == tmp_path / "reports" / "report.md"


def test_config_file_keys_may_sit_at_top_level_and_paths_resolve_beside_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    file = tmp_path / "sub" / "harness.toml"
    file.write_text('dockerfile = "Dockerfile.tiny"\ncontext = "ctx"\n' + MINIMAL)
    spec = image_spec(load_config(tmp_path, file))
    assert spec.dockerfile == tmp_path / "sub" / "Dockerfile.tiny"
    assert spec.context == tmp_path / "sub" / "ctx"


def test_overrides_win_and_none_leaves_the_file_value(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text("start_repeats = 7\n" + MINIMAL)
    config = load_config(
        tmp_path, file, {"tag": "other:1", "start_repeats": None, "load.enabled": False, "run.port": 9000}
    )
    assert (config.tag, config.start_repeats, config.load.enabled, config.run.port) == (
        "other:1",
        7,
        False,
        9000,
    )


def test_builder_is_one_of_three(tmp_path: Path) -> None:
    config_file = tmp_path / "harness.toml"
    config_file.write_text('builder = "kaniko"\n' + MINIMAL)
    with pytest.raises(ConfigError, match="builder"):
        load_config(tmp_path, config_file)
    config_file.write_text('builder = "buildkit"\nprune_build_cache = true\n' + MINIMAL)
    config = load_config(tmp_path, config_file)
    assert (image_spec(config).builder, config.prune_build_cache) == ("buildkit", True)


def test_load_table_is_typed_and_rejects_unknown_keys(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text(MINIMAL + '[load]\nusers = 20\ncontainer_cpuset = "0"\n')
    load = load_config(tmp_path, file).load
    assert (load.users, load.container_cpuset, load.enabled) == (20, "0", True)
    file.write_text(MINIMAL + '[load]\nusers = 20\nscenario = "predict"\n')
    with pytest.raises(ConfigError, match=r"load\.scenario: Extra inputs are not permitted"):
        load_config(tmp_path, file)


def test_unknown_key_is_reported_with_its_place(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text(MINIMAL + "helth_path = '/x'\n")
    with pytest.raises(ConfigError, match=r"run\.helth_path: Extra inputs are not permitted"):
        load_config(tmp_path, file)


def test_missing_required_keys_are_listed(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text('dockerfile = "D"\n')
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, file)
    assert "tag: Field required" in str(error.value)
    assert "run: Field required" in str(error.value)


def test_pyproject_without_a_harness_table_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"has no \[tool.harness\] table"):
        load_config(tmp_path)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.toml does not exist") as raised:
        load_config(tmp_path, tmp_path / "absent.toml")
    assert "--harness-config" in raised.value.hint


def test_a_config_path_that_cannot_be_read_is_a_config_error_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read .*: Is a directory"):
        load_config(tmp_path, tmp_path)


def test_run_spec_merges_env_and_replaces_other_fields(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text(MINIMAL + 'cpus = 1.5\nenv = { A = "1", B = "2" }\n')
    config = load_config(tmp_path, file)
    spec = run_spec(config, env={"B": "x"}, cpuset="1", health_interval_s=0.5)
    assert spec.env == {"A": "1", "B": "x"}
    assert (spec.port, spec.health_path, spec.cpuset, spec.nano_cpus, spec.health_interval_s) == (
        8080,
        "/healthz",
        "1",
        1_500_000_000,
        0.5,
    )
    assert config.run.env == {"A": "1", "B": "2"}


def test_the_loaded_container_is_pinned_only_when_load_pins_it(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text(MINIMAL + 'cpuset = "0-1"\n[load]\ncontainer_env = { W = "1" }\n')
    unpinned = load_config(tmp_path, file)
    assert run_spec(unpinned, **load_pinning(unpinned)).cpuset == "0-1"
    pinned = load_config(tmp_path, file, overrides={"load.container_cpuset": "0"})
    spec = run_spec(pinned, **load_pinning(pinned))
    assert (spec.cpuset, spec.env) == ("0", {"W": "1"})


def test_every_load_key_reaches_its_spec_field(tmp_path: Path) -> None:
    file = tmp_path / "h.toml"
    file.write_text(
        'tag = "t"\nbase_provider = "make-base"\n[run]\nport = 8080\nhealth_path = "/up"\n[load]\n'
        'locustfile = "l.py"\nusers = 3\nspawn_rate = 4\nduration_s = 5\nwarmup_s = 6\nprocesses = 2\n'
        'generator_share = 0.4\nlocust_cpuset = "1"\njoin_timeout_s = 7\nworkers = 1\nworker_wheels = "w"\n'
        'remote_workers = ["r"]\nmaster_bind = "10.0.0.1"\nmaster_port = 5557\n'
    )
    spec = load_spec(load_config(tmp_path, file), {"X": "1"})
    assert spec == LoadSpec(
        locustfile=tmp_path / "l.py", users=3, spawn_rate=4.0, duration_s=5.0, warmup_s=6.0, processes=2,
        generator_share=0.4, cpuset="1", join_timeout_s=7, workers=1, worker_wheels=tmp_path / "w",
        worker_base_provider="make-base", remote_workers=("r",), master_bind="10.0.0.1", master_port=5557,
        env={HEALTH_PATH_ENV: "/up", "X": "1"},
    )  # fmt: skip
