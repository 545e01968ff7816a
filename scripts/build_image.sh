#!/usr/bin/env bash
# Builds the API image: docker build -f Dockerfile.api -t TAG . with the official base when the engine has
# it or can reach a registry; otherwise with the local Debian stand-in and the host-side wheelhouse/.
# Dockerfile.api needs BuildKit: without the buildx plugin, Dockerfile.api.classic on the classic builder.
# Usage: scripts/build_image.sh [TAG] [extra docker build arguments, e.g. --no-cache]
#        (TAG defaults to energy-optimization-api:latest; PYTHON_IMAGE=... skips the choice)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${1:-energy-optimization-api:latest}"
shift || true
default_base="python:3.11-slim"

log() { printf '[build_image] %s\n' "$*" >&2; }

if [ -n "${PYTHON_IMAGE:-}" ]; then
  base="$PYTHON_IMAGE"
  log "base: $base (from PYTHON_IMAGE)"
elif docker image inspect "$default_base" >/dev/null 2>&1; then
  base="$default_base"
  log "base: $default_base (present on the engine)"
elif timeout 20 docker search --limit 1 python >/dev/null 2>&1; then
  base="$default_base"
  log "base: $default_base (the engine reaches a registry; docker build pulls it)"
else
  log "$default_base is not on the engine and no registry answers: using the local stand-in and wheelhouse/"
  base="$(HARNESS_BASE_IMAGE="$default_base" HARNESS_BASE_ARG=PYTHON_IMAGE \
    "$root/scripts/provide_base_image.sh" | tail -n 1)"
  log "base: $base (local stand-in); dependencies from wheelhouse/"
fi

# A wheelhouse in the context is always installed from; keep it in step with requirements-api.txt.
if [ -d "$root/wheelhouse" ]; then
  "$root/scripts/wheelhouse.sh" >/dev/null
fi

dockerfile=Dockerfile.api
if ! docker buildx version >/dev/null 2>&1; then
  dockerfile=Dockerfile.api.classic
  export DOCKER_BUILDKIT=0
fi
log "docker build -f $dockerfile -t $tag --build-arg PYTHON_IMAGE=$base $* ."
cd "$root"
docker build --force-rm -f "$dockerfile" -t "$tag" --build-arg "PYTHON_IMAGE=$base" "$@" .
