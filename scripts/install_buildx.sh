#!/usr/bin/env bash
# Installs the buildx CLI plugin (Debian's package docker-buildx) when `docker buildx version` fails, so the
# harness can build through BuildKit (builder = "auto" picks it). Idempotent; needs root (or sudo) and apt.
#
# Debian 12 (bookworm) has no docker-buildx; Debian 13 (trixie) has it. The trixie source is derived from the
# machine's own apt configuration (the URIs and keyring of the stanza that serves the release this machine
# runs), never from a host name written here, and pinned low: only docker-buildx comes from trixie, every
# other package stays on the machine's release. Without the plugin the harness uses the classic builder.
set -euo pipefail

if docker buildx version >/dev/null 2>&1; then
  exit 0
fi
say() { echo "install_buildx.sh: $*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n bash "$0" "$@"
  fi
  say "the buildx plugin is missing and installing it needs root: run \`sudo bash $0\`"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "the buildx plugin is missing and this is not an apt system: install docker-buildx (or Docker's buildx plugin) by hand"
  exit 1
fi

source_file=/etc/apt/sources.list.d/harness-docker-buildx.sources
pin_file=/etc/apt/preferences.d/harness-docker-buildx
apt_get=(apt-get -o DPkg::Lock::Timeout=300 -qq)
. /etc/os-release
codename="${VERSION_CODENAME:-}"

# The deb822 stanza of the machine's Debian sources whose Suites name this release: its URIs and Signed-By.
stanza_field() {  # stanza_field FIELD
  awk -v want="$1" -v suite="$codename" '
    function flush() { if (hit && !done && value != "") { print value; done = 1 } hit = 0; value = "" }
    /^[[:space:]]*$/ { flush(); next }
    /^#/ { next }
    {
      key = $1; sub(/:$/, "", key); rest = $0; sub(/^[^:]*:[[:space:]]*/, "", rest)
      if (key == "Suites") { n = split(rest, suites, /[[:space:]]+/); for (i = 1; i <= n; i++) if (suites[i] == suite) hit = 1 }
      if (key == want) value = rest
    }
    END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null
}

if ! apt-cache show docker-buildx >/dev/null 2>&1; then
  "${apt_get[@]}" update >&2 || true
fi
if ! apt-cache show docker-buildx >/dev/null 2>&1; then
  if [ "${ID:-}" != debian ] || [ -z "$codename" ]; then
    say "docker-buildx is not in this machine's apt sources and this is not Debian: install the buildx plugin by hand"
    exit 1
  fi
  uris="$(stanza_field URIs)"
  signed_by="$(stanza_field Signed-By)"
  if [ -z "$uris" ]; then
    # One-line format (/etc/apt/sources.list): the URI of a `deb` line for this release.
    uris="$(awk -v suite="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\//) { if ($(i + 1) == suite) print $i; break } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)"
  fi
  if [ -z "$uris" ]; then
    say "found no apt source for Debian $codename to derive the trixie source from; install docker-buildx by hand"
    exit 1
  fi
  {
    echo "# Written by scripts/install_buildx.sh: Debian trixie, only for docker-buildx (see $pin_file)."
    echo "Types: deb"
    echo "URIs: $uris"
    echo "Suites: trixie"
    echo "Components: main"
    if [ -n "$signed_by" ]; then echo "Signed-By: $signed_by"; fi
  } >"$source_file"
  cat >"$pin_file" <<'EOF'
# Written by scripts/install_buildx.sh: nothing comes from trixie except docker-buildx.
Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: docker-buildx
Pin: release n=trixie
Pin-Priority: 500
EOF
  "${apt_get[@]}" update >&2
fi
DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y --no-install-recommends docker-buildx >&2
if ! docker buildx version >&2; then
  say "docker-buildx is installed but \`docker buildx version\` still fails: check that the docker CLI looks in $(dirname "$(dpkg -L docker-buildx | grep '/docker-buildx$' | head -n 1)")"
  exit 1
fi
