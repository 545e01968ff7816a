"""Telling a run killed before its clean-up from a live one, by its marker's owner labels (real /proc, no engine)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from container_harness.ownership import LABEL, OWNER_LABEL, OWNER_START_LABEL, _owner_gone, _process_start


def owner(pid: int, start: str | None, host: str | None = None) -> dict[str, str]:
    labels = {LABEL: "0123456789ab", OWNER_LABEL: f"{host or socket.gethostname()}:{pid}"}
    return labels | ({OWNER_START_LABEL: start} if start is not None else {})


def test_a_live_owner_is_not_gone() -> None:
    me = os.getpid()
    assert not _owner_gone(owner(me, _process_start(me)))
    assert not _owner_gone(owner(me, None))  # a marker from before the start label: the pid alone


def test_an_exited_owner_is_gone() -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert _owner_gone(owner(int(child.stdout), None))


def test_a_reused_pid_is_gone() -> None:
    me = os.getpid()
    started = _process_start(me)
    assert started is not None
    assert _owner_gone(owner(me, str(int(started) - 1)))


def test_another_hosts_owner_is_never_taken_for_gone() -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert not _owner_gone(owner(int(child.stdout), None, host=f"not-{socket.gethostname()}"))
