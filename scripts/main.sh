#!/usr/bin/env bash
# The main job: set up .venv, build energy-optimization-api:latest through the harness (a local base image and
# wheelhouse are made automatically when the engine cannot pull), run the container checks and a short Locust
# benchmark, print the report and gate it against benchmarks/baseline.json. Leaves reports/ and the image.
# Extra arguments go to pytest (e.g. --harness-keep to keep every container and image for debugging).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh service,dev
rm -f reports/report.json
status=0
.venv/bin/pytest -m container tests/container/test_api_image.py \
  --harness-report reports/report.json "$@" || status=$?
if [ -f reports/report.json ]; then
  .venv/bin/container-harness summary reports/report.json
  .venv/bin/container-harness compare --baseline benchmarks/baseline.json reports/report.json \
    --tolerances benchmarks/tolerances-ci.toml || status=$((status ? status : $?))
fi
exit "$status"
