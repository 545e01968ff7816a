#!/usr/bin/env bash
# The test command: sets up .venv and runs the whole suite (unit, model, service and container tests).
# Usage: scripts/test.sh [pytest args...]. The data tests read the UCI steel CSV from $STEEL_DATA_CSV,
# default ../shared/data/Steel_industry_data.csv next to the repo; without it they are deselected, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
data="${STEEL_DATA_CSV:-../shared/data/Steel_industry_data.csv}"
args=()
if [ -f "$data" ]; then
  args+=("--steel-data=$data")
else
  echo "test.sh: no steel CSV at $data (set STEEL_DATA_CSV): the tests marked 'data' are NOT run" >&2
  args+=(-m "not data")
fi
# --harness: the plugin adds its built-in checks of the API image ([tool.harness]) to the suite.
exec .venv/bin/pytest --harness "${args[@]}" "$@"
