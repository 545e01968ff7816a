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
import logging
import socket
import sys
import time
from typing import Any, ClassVar, Final

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from service.write_coalescing import CoalescingHttpToolsProtocol

# Long enough for the loop to read requests that reached accepted connections; short next to the 5 s grace.
ACCEPTED_GRACE_S: Final[float] = 0.2
# uvicorn's warning for each request it answers 503 past limit_concurrency, and how often to let it through.
SHEDDING_MESSAGE: Final[str] = "Exceeded concurrency limit."
SHEDDING_LOG_INTERVAL_S: Final[float] = 1.0
# sha256 of inspect.getsource(uvicorn_worker.UvicornWorker._serve) in uvicorn-worker 0.4.0, the copy's origin.
UPSTREAM_SERVE_VERSION: Final[str] = "0.4.0"
UPSTREAM_SERVE_SHA256: Final[str] = "eb799ef03d6393179135c6235dc0a9a00884ad34bc600a0b8cc514d22c25aafc"


class _AnsweringServer(Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        await asyncio.sleep(ACCEPTED_GRACE_S)
        await super().shutdown(sockets)


class _SheddingLogOncePerSecond(logging.Filter):
    """uvicorn logs a warning for each 503 it sheds, thousands a second under overload: keep one a second."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -SHEDDING_LOG_INTERVAL_S
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != SHEDDING_MESSAGE:
            return True
        now = time.monotonic()
        if now - self._last < SHEDDING_LOG_INTERVAL_S:
            self._dropped += 1
            return False
        record.msg = f"{SHEDDING_MESSAGE} Answered 503 ({self._dropped} more since the last such line)."
        self._last, self._dropped = now, 0
        return True


class AnsweringUvicornWorker(UvicornWorker):
    """uvicorn-worker's UvicornWorker serving through _AnsweringServer (its _serve, with that one change).

    gunicorn's `worker_connections` bounds the worker as uvicorn's `limit_concurrency` (uvicorn-worker does not
    pass it on): past that many connections or requests, uvicorn answers 503 at once and closes the connection.
    The loop is asyncio's, not uvloop: same throughput here, and under uvloop some of 100 busy connections waited
    1-2 s while the others were served (benchmarks/README.md, Overload). Responses go out in one write each
    (service/write_coalescing.py).
    """

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "asyncio", "http": CoalescingHttpToolsProtocol}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.limit_concurrency = self.cfg.worker_connections
        logging.getLogger("uvicorn.error").addFilter(_SheddingLogOncePerSecond())

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = _AnsweringServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
