"""Make sure a Dockerfile's base images are on the engine before building; never pull."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from container_harness.build.dockerfile import BaseRef, base_images, read_dockerfile
from container_harness.errors import BaseImageMissingError
from container_harness.process_group import run_group

_PROVIDER_TIMEOUT_S = 900


def ensure_base_images(
    client: docker.DockerClient,
    dockerfile: Path,
    build_args: dict[str, str],
    provider: str | None,
    cwd: Path,
) -> dict[str, str]:
    """Build args with each missing base replaced by the image the provider printed; BaseImageMissingError otherwise.

    The provider is a shell command run in `cwd` once per missing base, with HARNESS_BASE_IMAGE and
    HARNESS_BASE_ARG in its environment; the last line of its stdout is the tag it made. The classic
    builder would try to pull a missing base even with pull=False, hence the check before building.
    """
    resolved = dict(build_args)
    for ref in base_images(read_dockerfile(dockerfile), build_args):
        if _present(client, ref.image):
            continue
        if provider is None:
            raise BaseImageMissingError(_missing_message(ref, dockerfile, "no base-image provider is configured"))
        provided = _run_provider(provider, ref, dockerfile, cwd)
        if not _present(client, provided):
            raise BaseImageMissingError(
                _missing_message(ref, dockerfile, f"the provider printed {provided!r}, which is not on the engine")
            )
        if provided != ref.image:
            if ref.arg is None:
                raise BaseImageMissingError(
                    _missing_message(
                        ref,
                        dockerfile,
                        f"the provider made {provided!r}, but the FROM line names the image directly, so no "
                        "build arg can point at it; make the provider tag its image as the FROM line names it",
                    )
                )
            resolved[ref.arg] = provided
    return resolved


def _present(client: docker.DockerClient, image: str) -> bool:
    """Whether the engine has the image locally (an empty name never is)."""
    if not image:
        return False
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def _run_provider(provider: str, ref: BaseRef, dockerfile: Path, cwd: Path) -> str:
    """Run the provider command for one base and return the last line it printed."""
    env = {**os.environ, "HARNESS_BASE_IMAGE": ref.image, "HARNESS_BASE_ARG": ref.arg or ""}
    try:
        done = run_group(provider, shell=True, cwd=cwd, env=env, timeout_s=_PROVIDER_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise BaseImageMissingError(
            _missing_message(ref, dockerfile, f"the provider `{provider}` ran longer than {_PROVIDER_TIMEOUT_S} s")
        ) from exc
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        stderr_tail = "\n".join(f"    {line}" for line in done.stderr.splitlines()[-15:]) or "    (no stderr)"
        raise BaseImageMissingError(
            _missing_message(
                ref,
                dockerfile,
                f"the provider `{provider}` (run in {cwd}) exited with {done.returncode} and printed "
                f"{'no tag' if not lines else repr(lines[-1])}; its stderr ends with:\n{stderr_tail}",
            )
        )
    return lines[-1]


def _missing_message(ref: BaseRef, dockerfile: Path, reason: str) -> str:
    """Message naming the missing image, the build arg that selects it and the ways to provide it."""
    image = ref.image or f"(empty: build arg {ref.arg} has no value)"
    if ref.arg:
        choose = (
            f"build it or load it locally (`docker load`, `docker import`) and pass its tag as the build arg "
            f"{ref.arg} (e.g. `--build-arg {ref.arg}=<tag>`)"
        )
    else:
        choose = "build it or load it locally (`docker load`, `docker import`) under exactly that name"
    return (
        f"base image {image} of {dockerfile} is not on the engine, and the harness never pulls; {reason}. "
        f"To fix: `docker pull {ref.image or '<image>'}` where a registry is reachable, or {choose}, "
        "or configure a provider command that creates it and prints its tag as its last line."
    )
