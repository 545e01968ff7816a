"""Telling a run killed before its clean-up from a live one, by its marker's owner labels (real /proc, no engine)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from container_harness.ownership import LABEL, OWNER_LABEL, OWNER_PROCESS_LABEL, _owner_gone, _process_identity


def owner(pid: int, process: str | None, host: str | None = None) -> dict[str, str]:
    """A marker's labels for a run of process `pid` on `host` (this one by default)."""
    labels = {LABEL: "0123456789ab", OWNER_LABEL: f"{host or socket.gethostname()}:{pid}"}
    return labels | ({OWNER_PROCESS_LABEL: process} if process is not None else {})


def exited_pid() -> int:
    """The pid of a process that has run and exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def mine() -> str:
    identity = _process_identity(os.getpid())
    assert identity is not None
    return identity


def replaced(identity: str, part: int, value: str) -> str:
    """The identity with one of its parts (boot, namespace, start) replaced."""
    parts = identity.split("/", 2)
    parts[part] = value
    return "/".join(parts)


def test_a_live_owner_is_not_gone() -> None:
    assert not _owner_gone(owner(os.getpid(), mine()))


def test_an_exited_owner_is_gone() -> None:
    pid = exited_pid()
    assert _owner_gone(owner(pid, replaced(mine(), 2, "1")))


def test_an_older_harness_marker_is_never_taken_for_gone() -> None:
    """Without the process label the pid could be another namespace's."""
    assert not _owner_gone(owner(exited_pid(), None))


def test_a_reused_pid_is_gone() -> None:
    assert _owner_gone(owner(os.getpid(), replaced(mine(), 2, "1")))


def test_an_owner_of_another_boot_is_never_taken_for_gone() -> None:
    """Another machine of the same host name (two runners named alike on one remote engine) has another boot id."""
    assert not _owner_gone(owner(exited_pid(), replaced(mine(), 0, "another-boot")))


def test_an_owner_in_another_pid_namespace_is_never_taken_for_gone() -> None:
    """A run in a container that shares the host's name (--network host) but not its pids."""
    assert not _owner_gone(owner(exited_pid(), replaced(mine(), 1, "pid:[1]")))


def test_another_hosts_owner_is_never_taken_for_gone() -> None:
    assert not _owner_gone(owner(exited_pid(), None, host=f"not-{socket.gethostname()}"))
