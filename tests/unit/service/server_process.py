"""The image's command, `python -m service.serve` (gunicorn on the app factory), as a test's subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

COMMAND = ("-m", "service.serve", "-c", "service/gunicorn_conf.py", "service.app:create_app()")


class Server:
    """`python -m service.serve` (the image's command) as a subprocess in the repository root."""

    def __init__(self, repo_root: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        full_env = {**os.environ, "WEB_CONCURRENCY": "2", **env}
        # The port comes from the kernel and stays bound: gunicorn serves on the inherited listening socket
        # (`--bind fd://N` overrides the bind gunicorn_conf.py makes of PORT), so no other process can take it.
        with socket.create_server(("127.0.0.1", 0)) as listener, log.open("wb") as out:
            self.port = int(listener.getsockname()[1])
            command = [sys.executable, *COMMAND[:-1], "--bind", f"fd://{listener.fileno()}", COMMAND[-1]]
            self.process = subprocess.Popen(
                command, cwd=repo_root, env=full_env, stdout=out, stderr=out, pass_fds=(listener.fileno(),)
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_exit(self, timeout_s: float = 60) -> int:
        """The exit status, failing the test when the server is still running after `timeout_s`."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server still running after {timeout_s} s:\n{self.output()}")

    def wait_healthy(self, timeout_s: float = 60) -> None:
        """Until GET /health answers 200, failing the test with the log when the server exits or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{self.url}/health never answered 200:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

