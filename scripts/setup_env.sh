#!/usr/bin/env bash
# Creates .venv and installs the harness (editable, with its `load` extra) plus this repository's dependency
# groups named as arguments (default: everything the tests need). The groups (service, train, tracking, dev)
# are never in the wheel. Also makes sure the buildx CLI plugin is there (scripts/install_buildx.sh).
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
groups="${1:-service,train,tracking,dev}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${groups//,/-}"
if [ ! -f "$stamp" ]; then
  # pip >= 25.1 reads [dependency-groups].
  .venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
  group_args=()
  IFS=',' read -ra names <<<"$groups"
  for name in "${names[@]}"; do group_args+=(--group "$name"); done
  .venv/bin/python -m pip install --quiet -e ".[load]" "${group_args[@]}"
  touch "$stamp"
fi
# The buildx plugin for BuildKit builds. Without it (no root, no apt) the harness builds with the classic builder.
if ! bash scripts/install_buildx.sh; then
  echo "setup_env.sh: no buildx plugin: builder = \"auto\" will use the classic builder" >&2
fi
