"""gunicorn settings for the image: uvicorn workers on the app factory, graceful on SIGTERM.

The master reads and checks the settings before any worker starts (exit 78 on a bad value) and has the served
model recorded in MLflow once per server (`when_ready`); each worker builds the app and loads its model set.
The master imports no NumPy or ONNX Runtime: their threads would be copied half-alive into each forked worker.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from service.serve import APP_FACTORY, EXIT_BAD_SETTINGS
from service.settings import LOG_FORMAT, Settings, SettingsError

try:
    _settings = Settings.from_env()
except SettingsError as exc:
    print(f"cannot start: {exc}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_SETTINGS) from None

wsgi_app = APP_FACTORY
bind = f"0.0.0.0:{_settings.port}"
workers = _settings.web_concurrency
# Overload policy: requests queue in arrival order, one per connection (HTTP/1.1), and each worker holds at most
# this many connections; past it uvicorn answers 503 at once and closes the connection (docker/README.md).
worker_connections = _settings.worker_connections
# uvicorn-worker's worker (uvicorn.workers is deprecated), answering already-accepted connections on shutdown.
worker_class = "service.worker.AnsweringUvicornWorker"
# Each worker calls the factory itself, so ONNX sessions are created after the fork and never shared.
preload_app = False
# In-flight requests take milliseconds; finish them well inside docker stop's default 10 s.
graceful_timeout = 5
timeout = 30
keepalive = 5
# Heartbeat files on tmpfs: no disk stalls, and it works with a read-only root filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn >= 25 opens a control socket under $HOME, which the image's user cannot write; nothing uses it.
control_socket_disable = True
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()


def post_fork(server: Arbiter, worker: Worker) -> None:
    """In each worker: the service's log lines at LOG_LEVEL on stderr."""
    logging.basicConfig(level=_settings.log_level, format=LOG_FORMAT, stream=sys.stderr)


def when_ready(server: Arbiter) -> None:
    """Once per server, before the first workers: record the served model in MLflow when it is configured."""
    if _settings.mlflow_tracking_uri:  # service/tracking.py; never waited for, gunicorn reaps it with the workers
        subprocess.Popen([sys.executable, "-m", "service.tracking"], stdin=subprocess.DEVNULL)
