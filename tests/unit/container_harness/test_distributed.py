"""run_distributed's orchestration with a stand-in for Locust: a script that plays master or worker."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import cast

import pytest

from container_harness.errors import LoadRunError
from container_harness.load import distributed
from container_harness.load.latency import RAW_TIMES_DIR_ENV
from container_harness.ownership import EngineSession
from container_harness.specs import LoadSpec

# The master runs for a moment; a worker marks itself joined (unless told to stay away), reports its CPU
# and quits before the master, or exits with code 3 at once when told to die.
_FAKE_LOCUST = """
import os, sys, time
from pathlib import Path
raw = Path(os.environ["HARNESS_LOCUST_TIMES_DIR"])
if "--master" in sys.argv:
    time.sleep(0.6)
    sys.exit(0)
me = os.environ["HARNESS_WORKER_ID"]
role = os.environ.get("FAKE_" + me, "ok")
if role != "absent":
    (raw / ("joined-" + me)).touch()
if role == "die":
    print("worker " + me + " fell over")
    sys.exit(3)
time.sleep(0.2)
"""


@pytest.fixture
def fake_locust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Locust replaced by the stand-in script; the raw-times directory it writes into."""
    script = tmp_path / "fake_locust.py"
    script.write_text(_FAKE_LOCUST)
    monkeypatch.setattr(distributed, "locust_base", lambda spec: [sys.executable, str(script)])
    raw_times = tmp_path / "raw"
    raw_times.mkdir()
    return raw_times


def _run(tmp_path: Path, raw_times: Path, **roles: str) -> distributed.DistributedRun:
    spec = LoadSpec(locustfile=tmp_path / "locustfile.py", processes=2, join_timeout_s=5)
    env = {**os.environ, RAW_TIMES_DIR_ENV: str(raw_times), **{f"FAKE_{id_}": role for id_, role in roles.items()}}
    return distributed.run_distributed(spec, "http://127.0.0.1:8000", env, tmp_path, raw_times, None)


def test_a_clean_run_gives_the_master_and_every_local_worker_with_its_own_figures(
    tmp_path: Path, fake_locust: Path
) -> None:
    run = _run(tmp_path, fake_locust)
    assert run.returncode == 0
    assert run.master.id == "master"
    assert run.master.log_path == tmp_path / "locust.log"
    assert [worker.id for worker in run.workers] == ["w1", "w2"]
    assert all(worker.pid > 0 and worker.cpu_s >= 0.0 for worker in run.workers)
    assert run.elapsed_s >= 0.6


def test_a_worker_that_dies_mid_run_is_named_with_its_exit_code_and_output(tmp_path: Path, fake_locust: Path) -> None:
    with pytest.raises(LoadRunError, match="died mid-run") as raised:
        _run(tmp_path, fake_locust, w2="die")
    assert "w2 exited with code 3" in raised.value.message
    assert "worker w2 fell over" in raised.value.message
    assert "w1" not in raised.value.message.split("died mid-run")[0]


def test_a_worker_that_never_joined_is_named(tmp_path: Path, fake_locust: Path) -> None:
    with pytest.raises(LoadRunError, match=r"Locust worker\(s\) w1 never joined the master within 5 s"):
        _run(tmp_path, fake_locust, w1="absent")


def test_worker_containers_need_the_engine_session(tmp_path: Path) -> None:
    spec = LoadSpec(locustfile=tmp_path / "locustfile.py", workers=1)
    with pytest.raises(LoadRunError, match="needs the engine session"):
        distributed.run_distributed(spec, "http://10.0.0.1:8000", {}, tmp_path, tmp_path, None)


def test_worker_containers_cannot_reach_a_loopback_service(tmp_path: Path) -> None:
    spec = LoadSpec(locustfile=tmp_path / "locustfile.py", workers=1)
    engine = cast(EngineSession, object())  # refused before the engine is asked anything
    with pytest.raises(LoadRunError, match="loopback") as raised:
        distributed.run_distributed(spec, "http://localhost:8000", {}, tmp_path, tmp_path, None, engine)
    assert "bridge gateway" in raised.value.hint
