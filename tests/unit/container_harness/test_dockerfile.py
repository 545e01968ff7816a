"""Base images of a Dockerfile as the engine would resolve them (dockerfile-parse underneath)."""

from __future__ import annotations

from pathlib import Path

import pytest

from container_harness.build.dockerfile import BaseRef, base_images, final_base_image, read_dockerfile
from container_harness.errors import DockerfileError
from container_harness.exit_codes import EXIT_BAD_INPUT

MULTI_STAGE = """\
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS Builder
RUN pip wheel .
FROM builder AS test
FROM gcr.io/distroless/python3 AS runtime
COPY --from=builder /w /w
"""


def test_several_args_on_one_line_each_keep_their_default() -> None:
    text = "ARG REG=docker.io TAG=3.12-slim\nFROM $REG/python:${TAG}\n"
    assert base_images(text, {}) == [BaseRef("docker.io/python:3.12-slim", None)]
    assert base_images(text, {"TAG": "3.11"}) == [BaseRef("docker.io/python:3.11", None)]


def test_one_variable_names_the_arg_a_provider_can_set() -> None:
    assert base_images("ARG BASE=busybox:1.36\nFROM ${BASE}\n", {}) == [BaseRef("busybox:1.36", "BASE")]
    assert base_images("ARG BASE=busybox:1.36\nFROM $BASE\n", {"BASE": "local/bb"}) == [BaseRef("local/bb", "BASE")]


def test_quoted_defaults_lose_their_quotes() -> None:
    assert base_images('ARG BASE="alpine:3.20"\nFROM $BASE\n', {}) == [BaseRef("alpine:3.20", "BASE")]


def test_platform_flag_is_not_the_image() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 alpine:3.20\n"
    assert base_images(text, {}) == [BaseRef("golang:1.22", None), BaseRef("alpine:3.20", None)]


def test_escape_directive_changes_the_line_continuation() -> None:
    text = "# escape=`\nARG BASE=mcr.microsoft.com/windows/nanoserver:ltsc2022\nFROM `\n    $BASE AS app\n"
    text += "RUN dir `\n  C:\\\n"
    assert base_images(text, {}) == [BaseRef("mcr.microsoft.com/windows/nanoserver:ltsc2022", "BASE")]


def test_stage_names_are_followed_case_insensitively_and_not_pulled() -> None:
    assert base_images(MULTI_STAGE, {}) == [
        BaseRef("python:3.11-slim", "PYTHON_IMAGE"),
        BaseRef("gcr.io/distroless/python3", None),
    ]
    assert final_base_image(MULTI_STAGE, {}) == BaseRef("gcr.io/distroless/python3", None)
    assert final_base_image(MULTI_STAGE, {}, target="test") == BaseRef("python:3.11-slim", "PYTHON_IMAGE")
    assert final_base_image(MULTI_STAGE, {}, target="BUILDER") == BaseRef("python:3.11-slim", "PYTHON_IMAGE")


def test_scratch_is_no_base() -> None:
    assert final_base_image("FROM busybox AS b\nFROM scratch\nCOPY --from=b /bin/sh /sh\n", {}) is None


def test_an_unexpandable_from_is_one_clear_error() -> None:
    with pytest.raises(DockerfileError, match=r"FROM \$\{BASE:-alpine\}.*expands to"):
        base_images("ARG BASE\nFROM ${BASE:-alpine}\n", {})


@pytest.mark.parametrize(
    ("name", "reason"), [("Absent.Dockerfile", "No such file or directory"), ("a-folder", "Is a directory")]
)
def test_an_unreadable_dockerfile_is_bad_input_naming_the_file(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(DockerfileError) as raised:
        read_dockerfile(tmp_path / name)
    assert raised.value.message == f"cannot read the Dockerfile {tmp_path / name}: {reason}"
    assert raised.value.command_exit_code == EXIT_BAD_INPUT
    assert "`dockerfile`" in raised.value.hint
