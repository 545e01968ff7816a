#!/usr/bin/env bash
# Build and validate the API image by hand: build, size check, image config, run, Docker health, a prediction,
# clean-up. A thin wrapper over the harness: a selection of its built-in checks, and the API's prediction test.
# Usage: scripts/docker_build.sh [--tag TAG] [--config FILE] [--report PATH] [--keep] [-- pytest args...]
#   --tag     image tag to build and check (default: `tag` of the harness configuration)
#   --config  harness TOML (default: [tool.harness] of pyproject.toml), e.g. another Dockerfile or context
#   --report  report.json path (default reports/docker_build.json; report.md beside it)
#   --keep    keep every container and image the run made, for debugging
# Exits 0 only when every step passed; pytest's exit code otherwise (2 for wrong usage).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

harness_args=(--harness-report reports/docker_build.json)
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || usage; harness_args+=(--harness-tag "$2"); shift 2 ;;
    --config) [ $# -ge 2 ] || usage; harness_args+=(--harness-config "$(realpath "$2")"); shift 2 ;;
    --report) [ $# -ge 2 ] || usage; harness_args+=(--harness-report "$(realpath -m "$2")"); shift 2 ;;
    --keep) harness_args+=(--harness-keep); shift ;;
    --) shift; break ;;
    -h|--help) usage 0 ;;
    *) echo "docker_build.sh: unknown option $1" >&2; usage ;;
  esac
done

[ -x .venv/bin/pytest ] || bash scripts/setup_env.sh

# The built-in checks it runs (budgets on figures these do not measure are skipped), and the API's own test.
checks=full_build,image_size,image_config,docker_health,budgets
exec .venv/bin/pytest -m container --harness-checks "$checks" \
  "tests/container/test_api_image.py::test_prediction_on_the_seed_example_is_plausible" \
  -p no:cacheprovider --no-harness-load "${harness_args[@]}" "$@"
