#!/usr/bin/env bash
# Downloads an image's pinned runtime wheels into a wheelhouse on the host, for builds that cannot reach a
# package index: Dockerfile.api (and docker/mlflow.Dockerfile) install from it with --no-index when present.
# Usage: scripts/wheelhouse.sh [REQUIREMENTS [WHEELHOUSE]]   (default requirements-api.txt and wheelhouse/;
# run from anywhere; relative paths are taken from the repo root; PYTHON=... picks the interpreter)
# Idempotent: keyed on the sha256 of the requirements file; a matching wheelhouse is left alone.
# Logs go to stderr; the wheelhouse path is the last line of stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
requirements="$(realpath "${1:-requirements-api.txt}")"
wheelhouse="$(realpath -m "${2:-wheelhouse}")"
stamp="$wheelhouse/.requirements.sha256"

log() { printf '[wheelhouse] %s\n' "$*" >&2; }

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi

digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  log "$wheelhouse already matches $requirements (sha256 ${digest:0:12}); nothing to do"
  echo "$wheelhouse"
  exit 0
fi

mkdir -p "$(dirname "$wheelhouse")"
staging="$(mktemp -d "$(dirname "$wheelhouse")/.wheelhouse.XXXXXX")"
chmod 755 "$staging"
trap 'rm -rf "$staging"' EXIT

# The image's interpreter is CPython 3.11 on Debian bookworm (glibc 2.36): it loads manylinux2014 (glibc
# 2.17) up to manylinux_2_36 wheels. pip does not widen manylinux_2_N tags itself, so each is listed.
# --no-deps: the file is the complete, pinned closure (see its header for what is left out on purpose).
platforms=(--platform manylinux2014_x86_64)
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
log "downloading wheels for $requirements (sha256 ${digest:0:12}) with $PYTHON"
"$PYTHON" -m pip download \
  --quiet \
  --no-deps \
  --only-binary=:all: \
  "${platforms[@]}" \
  --python-version 3.11 \
  --implementation cp \
  --dest "$staging" \
  -r "$requirements" >&2

expected="$(grep -cE '^[A-Za-z0-9]' "$requirements")"
found="$(find "$staging" -maxdepth 1 -name '*.whl' | wc -l)"
if [ "$found" -ne "$expected" ]; then
  log "expected $expected wheels for $expected pins, got $found; $wheelhouse left unchanged"
  exit 1
fi

rm -rf "$wheelhouse"
mv "$staging" "$wheelhouse"
trap - EXIT
echo "$digest" >"$stamp"
log "$wheelhouse: $found wheels, $(du -sh "$wheelhouse" | cut -f1)"
echo "$wheelhouse"
