"""The gunicorn worker: uvicorn's, with a shutdown that answers the connections it has already accepted.

uvicorn stops accepting and at once closes every connection without a request in progress, including ones
whose request is already in the socket buffer: on `docker stop` or a SIGHUP reload those clients get a
closed connection instead of an answer. Here the worker first stops accepting, lets the event loop read
what already arrived for a moment, then shuts down as uvicorn does.
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
