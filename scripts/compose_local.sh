#!/usr/bin/env bash
# docker-compose on an engine that cannot pull: provides the local base image and both host wheelhouses
# (wheelhouse/ for the API, docker/wheelhouse/ for MLflow), then runs Compose with docker-compose.local.yml.
# PYTHON_IMAGE is exported to the override as the tag scripts/provide_base_image.sh prints.
# Usage: scripts/compose_local.sh [compose args...]   e.g. `scripts/compose_local.sh up -d`, `... down -v`
# Uses `docker compose` (v2) when the engine's CLI has it, else `docker-compose` (v1). Dockerfile.api needs
# BuildKit: with the buildx plugin, Compose v1 is told to build through the docker CLI (which uses it);
# without it, the API is built from Dockerfile.api.classic.
set -euo pipefail
cd "$(dirname "$0")/.."

# Idempotent: an existing base image and wheelhouses that match their requirements are left alone.
base="$(HARNESS_BASE_IMAGE=python:3.11-slim HARNESS_BASE_ARG=PYTHON_IMAGE bash scripts/provide_base_image.sh \
  | tail -n 1)"
bash scripts/wheelhouse.sh docker/requirements-mlflow.txt docker/wheelhouse >/dev/null

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
export PYTHON_IMAGE="$base"
if docker buildx version >/dev/null 2>&1; then
  export COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1
else
  export API_DOCKERFILE=Dockerfile.api.classic
fi
exec "${compose[@]}" -f docker-compose.yml -f docker-compose.local.yml "$@"
