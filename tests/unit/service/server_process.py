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
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        full_env = {**os.environ, "PORT": str(self.port), "WEB_CONCURRENCY": "2", **env}
        with log.open("wb") as out:
            command = [sys.executable, *COMMAND]
            self.process = subprocess.Popen(command, cwd=repo_root, env=full_env, stdout=out, stderr=out)

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
