#!/usr/bin/env bash
# Builds a local stand-in for python:3.11-slim from Debian bookworm packages, for engines that cannot pull.
# Usage: scripts/local_base_image.sh [TAG]   (default local/python:3.11-slim-bookworm)
# Uses the host's apt source files that name bookworm; LOCAL_BASE_APT_SOURCES=FILE overrides them.
# Idempotent: an existing TAG is left alone. Logs go to stderr; the tag is the last line of stdout.
set -euo pipefail

tag="${1:-local/python:3.11-slim-bookworm}"
suite="bookworm"
python_version="3.11"

log() { printf '[local_base_image] %s\n' "$*" >&2; }

if docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag already exists; nothing to do"
  echo "$tag"
  exit 0
fi

if ! command -v mmdebstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    log "mmdebstrap is missing: run 'apt-get update && apt-get install -y mmdebstrap' as root, then retry"
    exit 1
  fi
  log "installing mmdebstrap"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2
fi

sources=()
if [ -n "${LOCAL_BASE_APT_SOURCES:-}" ]; then
  sources=("$LOCAL_BASE_APT_SOURCES")
else
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    # Only files that serve $suite: mmdebstrap ignores the host's apt pins, so a file for another release
    # (install_buildx.sh's trixie source, say) would bring that release's python3.
    if [ -f "$f" ] && grep -vE '^[[:space:]]*#' "$f" | grep -qw "$suite"; then
      sources+=("$f")
    elif [ -f "$f" ]; then
      log "skipping $f: it names no $suite source"
    fi
  done
fi
if [ "${#sources[@]}" -eq 0 ]; then
  log "no apt sources found on this host; set LOCAL_BASE_APT_SOURCES to a sources file offering $suite"
  exit 1
fi
log "apt sources: ${sources[*]}"

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# passwd: useradd/groupadd for a non-root user; python3-venv: `python3 -m venv` with its bundled pip;
# python-is-python3: `python` on PATH as in the official image. Docs, man pages and locales are left out
# (copyright files kept); the dpkg excludes stay in the image so later apt installs stay small too.
log "building the $suite root filesystem (about a minute)"
start=$SECONDS
mmdebstrap --variant=minbase \
  --include=python3,python3-venv,python-is-python3,ca-certificates,passwd \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='chroot "$1" python3 -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version"' \
  --customize-hook='chroot "$1" python3 -m venv /tmp/venv-check && rm -rf "$1/tmp/venv-check"' \
  "$suite" "$workdir/rootfs.tar" "${sources[@]}" >&2
log "root filesystem: $(du -h "$workdir/rootfs.tar" | cut -f1) in $((SECONDS - start)) s"

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --change "LABEL org.opencontainers.image.description=\"Local stand-in for python:${python_version}-slim built from Debian ${suite} packages by scripts/local_base_image.sh\"" \
  --message "local stand-in for python:${python_version}-slim ($suite)" \
  "$workdir/rootfs.tar" "$tag" >&2
log "tagged $tag ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"
echo "$tag"
