"""Run a command in its own process group, so that a timeout or an interrupt ends every process it started.

subprocess.run kills only its direct child. `docker buildx build` is the docker CLI running the buildx plugin as
a child, and a base-image provider is a shell: killing the parent alone leaves the child building, and loading
its image after the run has cleaned up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_GONE_S = 5.0  # SIGKILLed processes vanish once reaped; init reaps orphans within milliseconds


def run_group(
    command: str | Sequence[str],
    *,
    timeout_s: float,
    grace_s: float = 10.0,
    shell: bool = False,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run to the end with stdout and stderr captured as text. A timeout raises subprocess.TimeoutExpired with
    the output so far. A timeout or any interrupt first ends the whole group: SIGINT, and grace_s to exit
    (buildx cancels its build on the engine), then SIGKILL."""
    with subprocess.Popen(
        command,
        shell=shell,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except BaseException:
            end_group(process, grace_s)
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def end_group(process: subprocess.Popen[str], grace_s: float) -> None:
    """SIGINT the group and give it grace_s to exit, then SIGKILL whatever is left, also when a second
    interrupt cuts the grace short; returns once no process of the group is left (at most _GONE_S more)."""
    try:
        _signal_group(process.pid, signal.SIGINT)
        process.communicate(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    finally:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        _await_group_gone(process.pid)


def _await_group_gone(pgid: int) -> None:
    """Wait until the group's last process (a grandchild, reaped by init) is gone, at most _GONE_S."""
    deadline = time.monotonic() + _GONE_S
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send a signal to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
