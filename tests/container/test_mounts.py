"""A folder of the caller's mounted into a container: bound where the engine sees it, else copied into a labelled
volume (test_nested_engine.py runs the whole check from a container where the engine cannot see the project)."""

from __future__ import annotations

import io
import secrets
import subprocess
import tarfile
from pathlib import Path

import pytest

from container_harness.ownership import LABEL, EngineSession
from container_harness.run.mounts import engine_sees, folder_mount

pytestmark = pytest.mark.container

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_service"
BUSYBOX = "local/busybox:stable"  # made by the tiny fixture's provider


@pytest.fixture(scope="module")
def busybox() -> str:
    subprocess.run(["sh", str(TINY / "provide_base.sh"), BUSYBOX], check=True, capture_output=True, timeout=300)
    return BUSYBOX


def test_the_engine_sees_a_folder_of_this_host_and_not_one_it_lacks(
    harness_session: EngineSession, busybox: str, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(bytes(32 * 1024 * 1024))  # a folder whose tar fills any socket buffer
    assert engine_sees(harness_session, busybox, tmp_path)
    assert not engine_sees(harness_session, busybox, Path(f"/harness-no-such-folder-{secrets.token_hex(4)}"))


def test_a_copied_folder_is_served_from_a_volume_of_the_run(
    harness_session: EngineSession, busybox: str, tmp_path: Path
) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "source.json").write_text('{"source": "external"}')
    mount, how = folder_mount(harness_session, busybox, tmp_path, "/data", read_only=True, kind="copy")
    assert how == "copy"
    [(volume, spec)] = mount.items()
    assert spec == {"bind": "/data", "mode": "ro"}
    assert harness_session.client.volumes.get(volume).attrs["Labels"][LABEL] == harness_session.id
    reader = harness_session.client.containers.create(busybox, ["true"], volumes=mount, labels=harness_session.labels())
    try:
        stream, _ = reader.get_archive("/data/nested/source.json")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile("source.json")
            assert member is not None
            assert member.read() == b'{"source": "external"}'
    finally:
        reader.remove(force=True)
    assert folder_mount(harness_session, busybox, tmp_path, "/data", read_only=False) == (
        {str(tmp_path): {"bind": "/data", "mode": "rw"}},
        "bind",
    )
