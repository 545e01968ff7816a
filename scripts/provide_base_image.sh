#!/usr/bin/env bash
# The harness's base-image provider for engines that cannot pull: it runs this when the Dockerfile's base
# image (HARNESS_BASE_IMAGE, passed as build arg HARNESS_BASE_ARG) is missing, and builds with the tag this
# prints. It makes the local Debian stand-in for python:3.11-slim and, since an engine without a registry
# is assumed to have no package index inside builds either, the host-side wheelhouse/ the build installs from.
# Logs go to stderr; the last line of stdout is the tag of an image now on the engine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[provide_base_image] %s\n' "$*" >&2; }

log "missing base image: ${HARNESS_BASE_IMAGE:-<not given>} (build arg ${HARNESS_BASE_ARG:-<not given>})"
tag="$("$here/local_base_image.sh" | tail -n 1)"
log "local stand-in: $tag"
"$here/wheelhouse.sh" >/dev/null
echo "$tag"
