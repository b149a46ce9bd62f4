#!/usr/bin/env bash
# Cross-builds the addon for Linux s390x (big-endian) into prebuilds/linux-s390x/pdsm_shm.node,
# which src/segments/native.ts loads when node runs as s390x (under qemu-s390x-static).
# The native build in build/ is left alone: node-gyp runs in a scratch copy of the sources.
# Needs: g++-s390x-linux-gnu (Debian). Headers: /usr/include/node (arch-neutral for Node-API).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v s390x-linux-gnu-g++ >/dev/null || { echo "build:s390x: s390x-linux-gnu-g++ missing (apt-get install g++-s390x-linux-gnu)" >&2; exit 1; }
work="$(mktemp -d /tmp/pdsm-s390x.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/binding.gyp" "$root/native" "$work/"
mkdir -p "$work/node_modules/xxhash-addon" && cp -r "$root/node_modules/node-addon-api" "$work/node_modules/"
# binding.gyp takes xxHash's own xxhash.h from the xxhash-addon package: its folder and package.json are enough.
cp -r "$root/node_modules/xxhash-addon/package.json" "$root/node_modules/xxhash-addon/xxHash" "$work/node_modules/xxhash-addon/"
cd "$work"
CC=s390x-linux-gnu-gcc CXX=s390x-linux-gnu-g++ LINK=s390x-linux-gnu-g++ AR=s390x-linux-gnu-ar \
  "$root/node_modules/.bin/node-gyp" rebuild --arch=s390x --nodedir="${npm_config_nodedir:-/usr}" >build.log 2>&1 \
  || { cat build.log >&2; exit 1; }
mkdir -p "$root/prebuilds/linux-s390x"
cp build/Release/pdsm_shm.node "$root/prebuilds/linux-s390x/pdsm_shm.node"
file "$root/prebuilds/linux-s390x/pdsm_shm.node" 2>/dev/null || true
