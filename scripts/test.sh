#!/usr/bin/env bash
# The whole test suite, as CI runs it (the README's test command is `npm test`, which runs this).
# Works as typed on a fresh Debian or Ubuntu with only its Node 20 and npm: Node 24 is fetched from
# the npm registry when the running one is older, and the Debian packages the tests need are
# installed (as root) or named in one `apt-get install` line (otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON="${NX_DAEMON:-false}" NX_NO_CLOUD=true

# shellcheck source=scripts/use-node24.sh
source scripts/use-node24.sh
bash scripts/install-system-deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "workspace checks: nx sync, boundaries, prettier, lint, typecheck, build"
npx nx sync:check
node scripts/check-boundaries.mjs
npx prettier --check .
npx nx run-many -t lint typecheck build --outputStyle=static

# WebRTC tests must not touch a real interface: on the project's machines they run in a private
# network namespace (../shared/netns). Elsewhere they run as they are.
SHARED=../shared
ISOLATE=()
if [ -x "$SHARED/netns/run-isolated.sh" ]; then ISOLATE=("$SHARED/netns/run-isolated.sh"); fi

step "unit, integration and chaos tests"
"${ISOLATE[@]}" npx nx run-many -t test --outputStyle=static --skip-nx-cache --parallel=1

# Firefox gathers no ICE candidate on 127.x: its namespace also gets 198.18.0.1 (RFC 2544 range,
# still private to the namespace).
step "browser end-to-end tests (Chromium and Firefox)"
RUN_ISOLATED_ROUTABLE=1 "${ISOLATE[@]}" npx nx run-many -t e2e --outputStyle=static --skip-nx-cache --parallel=1

# WHIP publishing against a real media server: Janus behind simple-whip-server (../shared/janus-whip).
# setup.sh needs the package registries, so it runs before entering the namespace.
if [ -d "$SHARED/janus-whip" ]; then
  step "WHIP publishing to Janus"
  bash "$SHARED/janus-whip/setup.sh"
  "${ISOLATE[@]}" npx nx run-many -t test-whip --outputStyle=static --parallel=1
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs $SHARED/janus-whip beside the repository" >&2
  exit 1
else
  echo "skipped the WHIP tests against Janus: they need $SHARED/janus-whip (the project's machines)"
fi

step "packages: the prepack guard, what npm pack publishes, and @robocam/sender used from a scratch project"
node --test scripts/check-built.test.mjs scripts/node24.test.mjs
node scripts/check-packs.mjs
node scripts/check-scratch-import.mjs

# A real V4L2 driver (vivid in a throw-away VM) and the Docker images (podman) need the project's
# helpers in ../shared; CI always has them.
if [ -d "$SHARED/v4l2vm" ] && [ -d "$SHARED/oci" ]; then
  step "V4L2 device tests in a VM (vivid)"
  npx nx run-many -t test-device --outputStyle=static --parallel=1
  step "Docker images: build, start, stream, stop"
  bash docker/verify.sh
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs $SHARED/v4l2vm and $SHARED/oci beside the repository" >&2
  exit 1
else
  echo "skipped the V4L2 device and Docker image tests: they need $SHARED (the project's machines)"
fi
