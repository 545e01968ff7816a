"""Which builder a configured `builder` means here, with the buildx plugin present or missing."""

from __future__ import annotations

import pytest

from container_harness.build import buildkit
from container_harness.build.buildkit import BuildxInfo, resolve_builder
from container_harness.errors import ConfigError


@pytest.mark.parametrize(
    ("choice", "buildx", "builder"),
    [
        ("classic", True, "classic"),
        ("auto", True, "buildkit"),
        ("auto", False, "classic"),
        ("buildkit", True, "buildkit"),
    ],
)
def test_the_configured_builder_resolves_by_whether_buildx_answers(
    monkeypatch: pytest.MonkeyPatch, choice: str, buildx: bool, builder: str
) -> None:
    monkeypatch.setattr(buildkit, "buildx_info", lambda: BuildxInfo("0.13.1", None) if buildx else None)
    assert resolve_builder(choice) == builder


def test_buildkit_configured_without_the_buildx_plugin_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buildkit, "buildx_info", lambda: None)
    with pytest.raises(
        ConfigError, match=r'builder = "buildkit" is configured, but `docker buildx version` fails'
    ) as raised:
        resolve_builder("buildkit")
    assert "docker buildx version" in raised.value.hint
