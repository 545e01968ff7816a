#!/usr/bin/env bash
# docker-compose on an engine that cannot pull: provides the local base image and both host wheelhouses
# (wheelhouse/ for the API, docker/wheelhouse/ for MLflow), then runs Compose with docker-compose.local.yml.
# Usage: scripts/compose_local.sh [compose args...]   e.g. `scripts/compose_local.sh up -d`, `... down -v`
# Uses `docker compose` (v2) when the engine's CLI has it, else `docker-compose` (v1).
set -euo pipefail
cd "$(dirname "$0")/.."

base="${PYTHON_IMAGE:-local/python:3.11-slim-bookworm}"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  bash scripts/local_base_image.sh "$base" >/dev/null
fi
bash scripts/wheelhouse.sh >/dev/null
bash scripts/wheelhouse.sh docker/requirements-mlflow.txt docker/wheelhouse >/dev/null

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
export PYTHON_IMAGE="$base"
exec "${compose[@]}" -f docker-compose.yml -f docker-compose.local.yml "$@"
