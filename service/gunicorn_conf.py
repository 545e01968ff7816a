"""gunicorn settings for the image: uvicorn workers, models loaded in each worker, graceful on SIGTERM."""

from __future__ import annotations

import os

from service.settings import Settings

_settings = Settings.from_env()

bind = f"0.0.0.0:{_settings.port}"
workers = _settings.web_concurrency
# uvicorn-worker's worker (uvicorn.workers is deprecated), answering already-accepted connections on shutdown.
worker_class = "service.worker.AnsweringUvicornWorker"
# Each worker imports service.app itself, so ONNX sessions are created after the fork and never shared.
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
