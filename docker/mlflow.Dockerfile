# MLflow tracking server for docker-compose.yml: SQLite backend and artifacts under /mlflow (a volume).
# Build: docker build -f docker/mlflow.Dockerfile -t energy-optimization-mlflow:3.17.2 docker
# On an engine that cannot pull, pass --build-arg PYTHON_IMAGE=<local base> and prepare docker/wheelhouse/
# first (scripts/compose_local.sh does both); the build then installs from it without an index.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE}

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/mlflow/bin:$PATH \
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false

# The wildcard matches nothing when wheelhouse/ is absent, and COPY still succeeds with the requirements.
COPY requirements-mlflow.txt wheelhouse* /tmp/build/

# python3: the official image has it in /usr/local/bin, a Debian base in /usr/bin. The requirements are the
# full pinned closure, hence --no-deps. The positional parameters carry the wheelhouse options, if any.
RUN set -eu; \
    if ls /tmp/build/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /tmp/build; else set --; fi; \
    python3 -m venv /opt/mlflow; \
    /opt/mlflow/bin/pip install --no-deps --no-compile "$@" -r /tmp/build/requirements-mlflow.txt; \
    /opt/mlflow/bin/python -c "import mlflow.server, sqlalchemy, alembic"; \
    rm -rf /tmp/build; \
    useradd --uid 1000 --user-group --home-dir /mlflow --create-home --shell /usr/sbin/nologin mlflow

USER 1000:1000
WORKDIR /mlflow
EXPOSE 5000

HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=5)"]

CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000", "--workers", "1", \
     "--backend-store-uri", "sqlite:////mlflow/mlflow.db", "--artifacts-destination", "/mlflow/artifacts"]
