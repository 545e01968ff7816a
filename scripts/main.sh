#!/usr/bin/env bash
# The main job: set up .venv, build energy-optimization-api:latest through the harness (a local base image and
# wheelhouse are made automatically when the engine cannot pull), run the container checks and a short Locust
# benchmark, gate against benchmarks/baseline.json and print the report. Leaves reports/ and the image.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh service,load,dev
status=0
.venv/bin/pytest -m container tests/container/test_api_image.py tests/container/test_api_load.py \
  --harness-report reports/report.json "$@" || status=$?
if [ -f reports/report.json ]; then
  .venv/bin/harness summary reports/report.json
  .venv/bin/harness compare --baseline benchmarks/baseline.json reports/report.json || status=$((status ? status : $?))
fi
exit "$status"
