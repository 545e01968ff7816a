"""The image Locust workers run in on the engine: the harness's base with Locust and the harness's recorder.

Nothing is pulled and the build reaches no package index: it starts FROM the local base the harness already
provides (its provider makes it when missing) and installs Locust, at the host's version, from wheels in the
build context, taken from a wheel directory (load.worker_wheels) that `pip download` fills when it holds none.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from container_harness.build.timer import build_current
from container_harness.errors import LoadRunError
from container_harness.ownership import EngineSession
from container_harness.specs import ImageSpec

BASE_IMAGE = "local/python:3.11-slim-bookworm"
# Where the recorder is inside the image: the harness package is copied to /opt/harness.
RECORDER_IN_IMAGE = "/opt/harness/container_harness/load/recorder.py"
PYTHON_IN_IMAGE = "/opt/venv/bin/python"

_DOCKERFILE = """\
ARG BASE_IMAGE={base}
FROM ${{BASE_IMAGE}}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \\
    && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels "locust=={locust}" \\
    && rm -rf /tmp/wheels
COPY container_harness /opt/harness/container_harness
ENV PYTHONPATH=/opt/harness PYTHONDONTWRITEBYTECODE=1
"""


def locust_wheels(directory: Path) -> list[Path]:
    """Locust's wheels and its dependencies' for the host's Locust version, downloaded with pip when missing."""
    wanted = f"locust=={version('locust')}"
    if not list(directory.glob("locust-*.whl")):
        directory.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(directory), wanted]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise LoadRunError(
                f"no Locust wheels in {directory} and `{' '.join(command)}` failed: {done.stderr.strip()[-500:]}",
                hint="put Locust's wheels (pip download locust==VERSION -d DIR) into load.worker_wheels",
            )
    return sorted(directory.glob("*.whl"))


def worker_image(session: EngineSession, wheels_dir: Path, base_provider: str | None) -> str:
    """Build (through the cache) the workers' image for this session; its id. Cleaned up with the session."""
    package = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="harness-locust-worker-") as tmp:
        context = Path(tmp)
        (context / "wheels").mkdir()
        for wheel in locust_wheels(wheels_dir):
            shutil.copy2(wheel, context / "wheels")
        shutil.copytree(package, context / "container_harness", ignore=shutil.ignore_patterns("__pycache__"))
        dockerfile = context / "Dockerfile"
        dockerfile.write_text(_DOCKERFILE.format(base=BASE_IMAGE, locust=version("locust")))
        spec = ImageSpec(
            dockerfile=dockerfile, context=context, tag="harness-locust-worker:latest", base_provider=base_provider
        )
        return build_current(session, spec).image_id
