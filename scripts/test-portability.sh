#!/usr/bin/env bash
# npm run test:portability: PDSM on other byte orders and operating systems, for real
# (README "Platforms"). Sets up what it can (scripts/portability-setup.sh), builds dist/,
# then runs test/portability/ with tap. Not part of `npm test`: it needs emulators and
# foreign node builds, and takes minutes. Tests whose platform is missing skip with the reason.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
start=$(date +%s)
scripts/portability-setup.sh
npm run build >/dev/null
# The code under test runs compiled (emulated nodes are too slow for tap's TS loader):
# tests and sources in .portability-js/, one level below the root like dist/.
npx tsc -p tsconfig.json --outDir .portability-js --declaration false --sourceMap false
# One file at a time: emulated processes take a core each.
npx tap --disable-coverage --timeout 900 --jobs 1 --exclude '!test/portability/**' "$@" test/portability/*.test.ts
echo "portability: $(( $(date +%s) - start )) s in all"
