#!/usr/bin/env bash
# The whole test suite, as CI runs it (the README's test command is `npm test`, which runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON="${NX_DAEMON:-false}" NX_NO_CLOUD=true

node -e 'if (+process.versions.node.split(".")[0] < 24) { console.error(`robocam needs Node >= 24 (found ${process.version}); see .nvmrc`); process.exit(1) }'

npx nx sync:check
npx prettier --check .
npx nx run-many -t lint typecheck build --outputStyle=static

# WebRTC tests must not touch a real interface: on the project's machines they run in a private
# network namespace (../shared/netns). Elsewhere they run as they are.
ISOLATE=()
if [ -x ../shared/netns/run-isolated.sh ]; then ISOLATE=(../shared/netns/run-isolated.sh); fi
"${ISOLATE[@]}" npx nx run-many -t test --outputStyle=static --skip-nx-cache

node scripts/check-packs.mjs
node scripts/check-scratch-import.mjs
