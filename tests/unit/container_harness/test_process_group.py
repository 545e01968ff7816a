"""run_group ends every process a command started, not only its direct child, on a timeout."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from container_harness.process_group import run_group


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_timeout_ends_the_grandchildren_too(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The shell traps SIGINT and keeps waiting, as a slow-to-cancel CLI would: the grace ends in SIGKILL.
    script = f"trap '' INT; sleep 300 & echo $! > {pid_file}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        run_group(["sh", "-c", script], timeout_s=1.0, grace_s=0.5)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5  # SIGKILL is sent to the group; the kernel ends each member soon after
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(grandchild)


def test_output_and_exit_code_come_back() -> None:
    done = run_group("echo out; echo err >&2; exit 3", shell=True, timeout_s=10, env={**os.environ})
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
