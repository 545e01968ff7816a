"""The gunicorn worker: uvicorn's, with a shutdown that answers the connections it has already accepted.

uvicorn stops accepting and at once closes every connection without a request in progress, including ones
whose request is already in the socket buffer: on `docker stop` or a SIGHUP reload those clients get a
closed connection instead of an answer. Here the worker first stops accepting, lets the event loop read
what already arrived for a moment, then shuts down as uvicorn does.

Neither uvicorn nor uvicorn-worker offers a setting or a hook for the server class (uvicorn's fix for this
race, pull request 3124, was closed unmerged), so `_serve` is copied from uvicorn-worker 0.4.0 with one
change; pyproject.toml and requirements-api.txt pin 0.4.x, and tests/unit/service/test_worker.py fails
when the installed `_serve` differs from the one copied (UPSTREAM_SERVE_SHA256).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Final

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

# Long enough for the loop to read requests that reached accepted connections; short next to the 5 s grace.
ACCEPTED_GRACE_S: Final[float] = 0.2
# sha256 of inspect.getsource(uvicorn_worker.UvicornWorker._serve) in uvicorn-worker 0.4.0, the copy's origin.
UPSTREAM_SERVE_VERSION: Final[str] = "0.4.0"
UPSTREAM_SERVE_SHA256: Final[str] = "eb799ef03d6393179135c6235dc0a9a00884ad34bc600a0b8cc514d22c25aafc"


class _AnsweringServer(Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        await asyncio.sleep(ACCEPTED_GRACE_S)
        await super().shutdown(sockets)


class AnsweringUvicornWorker(UvicornWorker):
    """uvicorn-worker's UvicornWorker serving through _AnsweringServer (its _serve, with that one change)."""

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = _AnsweringServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
