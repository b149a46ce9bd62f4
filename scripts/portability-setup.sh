#!/usr/bin/env bash
# Installs what test/portability needs (as root, from Debian and the npm registry only):
# qemu-user-static and the s390x cross compiler; node-linux-s390x (npm pack, into the cache,
# never a dependency); the addon cross-built into prebuilds/linux-s390x/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PDSM_PORTABILITY_CACHE:-$root/.cache/portability}"
mkdir -p "$cache"
need=()
command -v qemu-s390x-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v s390x-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-s390x-linux-gnu)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "portability: not root, cannot install ${need[*]}; those tests will skip" >&2
  fi
fi
if [ ! -x "$cache/node-linux-s390x/bin/node" ]; then
  (cd "$cache" && npm pack --silent node-linux-s390x@20.11.0 >/dev/null && tar xzf node-linux-s390x-20.11.0.tgz \
    && rm -rf node-linux-s390x && mv package node-linux-s390x && rm -f node-linux-s390x-20.11.0.tgz)
fi
if command -v s390x-linux-gnu-g++ >/dev/null 2>&1; then "$root/scripts/build-s390x.sh" >/dev/null; fi
