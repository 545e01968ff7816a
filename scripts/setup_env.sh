#!/usr/bin/env bash
# Creates .venv and installs the harness (editable, with its `load` extra) plus this repository's dependency
# groups named as arguments (default: everything the tests need), constrained to the API image's pins
# (requirements-api.txt), so the tests run the fastapi, starlette and uvicorn the image ships. The groups
# (service, train, dev) are never in the wheel. The tracking tests' MLflow server gets a venv of its own,
# .venv/mlflow-server, from the MLflow image's pins: mlflow needs gunicorn < 27 and the API image ships 27.
# Also makes sure the buildx CLI plugin is there (scripts/install_buildx.sh).
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
groups="${1:-service,train,dev}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml requirements-api.txt | sha256sum | cut -c1-16)-${groups//,/-}"
if [ ! -f "$stamp" ]; then
  # pip >= 25.1 reads [dependency-groups].
  .venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
  group_args=()
  IFS=',' read -ra names <<<"$groups"
  for name in "${names[@]}"; do group_args+=(--group "$name"); done
  .venv/bin/python -m pip install --quiet -c requirements-api.txt -e ".[load]" "${group_args[@]}"
  touch "$stamp"
fi
mlflow_stamp=".venv/mlflow-server/.installed-$(sha256sum <docker/requirements-mlflow.txt | cut -c1-16)"
if [ ! -f "$mlflow_stamp" ]; then
  "$python" -m venv .venv/mlflow-server
  .venv/mlflow-server/bin/python -m pip install --quiet --no-deps -r docker/requirements-mlflow.txt
  touch "$mlflow_stamp"
fi
# The buildx plugin for BuildKit builds. Without it (no root, no apt) the harness builds with the classic builder.
if ! bash scripts/install_buildx.sh; then
  echo "setup_env.sh: no buildx plugin: builder = \"auto\" will use the classic builder" >&2
fi
