"""service/worker.py copies a private method of uvicorn-worker: prove the installed one is still the original."""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version

from uvicorn_worker import UvicornWorker

from service.worker import UPSTREAM_SERVE_SHA256, UPSTREAM_SERVE_VERSION, AnsweringUvicornWorker


def test_installed_uvicorn_worker_serve_is_the_one_the_override_was_copied_from() -> None:
    digest = hashlib.sha256(inspect.getsource(UvicornWorker._serve).encode()).hexdigest()

    assert digest == UPSTREAM_SERVE_SHA256, (
        f"uvicorn-worker {version('uvicorn-worker')} changed UvicornWorker._serve, which "
        f"service/worker.py AnsweringUvicornWorker._serve copies from {UPSTREAM_SERVE_VERSION}. Re-check: does the "
        "new _serve still only build a uvicorn Server, install the SIGQUIT handler, serve the sockets and exit "
        "with WORKER_BOOT_ERROR when the server did not start? Does uvicorn now answer requests already in the "
        "socket buffer on shutdown by itself (then drop the override)? Update the copy, UPSTREAM_SERVE_VERSION, "
        "UPSTREAM_SERVE_SHA256 and the pins in pyproject.toml and requirements-api.txt, then run "
        "tests/container/test_hardening.py and test_model_failures.py (SIGHUP and docker stop under load)."
    )


def test_the_override_differs_from_upstream_only_in_the_server_class() -> None:
    upstream = inspect.getsource(UvicornWorker._serve).replace("Server(", "_AnsweringServer(")
    assert inspect.getsource(AnsweringUvicornWorker._serve) == upstream
