#!/usr/bin/env bash
# Overload curve of the API: wrk POST /predict_onnx at 10, 50, 100 and 200 connections, one RESULT line each.
# Usage: benchmarks/overload.sh IMAGE [SECONDS] [LABEL]
# The container runs pinned to CPU 0 with one worker; wrk runs pinned to CPU 1 with one thread and talks to
# the container's bridge IP, so Docker's port proxy is not in the path. Removes its container on exit.
set -euo pipefail
image="$1"; seconds="${2:-8}"; label="${3:-$image}"
here="$(cd "$(dirname "$0")" && pwd)"
name="overload-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" --cpuset-cpus 0 -e WEB_CONCURRENCY=1 ${OVERLOAD_DOCKER_ARGS:-} "$image" >/dev/null
ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")"
for _ in $(seq 100); do curl -sf "http://$ip:8000/health" >/dev/null && break; sleep 0.2; done
taskset -c 1 wrk -t1 -c10 -d2s -s "$here/wrk_predict.lua" "http://$ip:8000" >/dev/null  # warm-up
for connections in 10 50 100 200; do
  line="$(taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s "$here/wrk_predict.lua" \
    "http://$ip:8000" | grep '^RESULT')"
  echo "$label connections=$connections ${line#RESULT }"
done
