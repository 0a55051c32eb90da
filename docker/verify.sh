#!/usr/bin/env bash
# Checks the Docker deliverables on a machine without a Docker engine, with podman (CI runs this
# from scripts/test.sh; run it yourself with `bash docker/verify.sh` as root):
#   1. lints docker/compose.yaml (dclint: compose schema + style), the Dockerfiles
#      (dockerfile-utils) and the shell scripts (shellcheck);
#   2. builds the three images with podman against the local stand-in node:24-bookworm-slim
#      (../shared/oci), reusing the layer cache of earlier runs;
#   3. in a private network namespace (../shared/netns), starts them the way docker/compose.yaml
#      does: signal and web on a bridge network with published ports, the sender on the host's
#      network on the test pattern; checks every HEALTHCHECK, the viewer page, and that a werift
#      viewer decodes frames with a readable timecode from the containerized sender through the
#      containerized signaling server, and that the sender runs on jemalloc with its heap flags;
#   4. runs the sender again the other way docker/compose.yaml describes (on the bridge network,
#      media through a published RTC_PORT_RANGE, ANNOUNCED_IPS) and checks the video arrives;
#   5. stops each container (SIGTERM) and checks it exits 0 within 10 s; prints image sizes.
# Installs what it needs (Debian packages, Node 24 and the npm linters in ~/.cache/robocam-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${ROBOCAM_SHARED:-$(dirname "$ROOT")/shared}
TOOLS=${ROBOCAM_TOOLS:-$HOME/.cache/robocam-tools}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$SHARED/oci/containers.conf}
export SKIP_FFMPEG=true NX_DAEMON=false NX_NO_CLOUD=true
APPS=(signal sender web)
TAG=verify
# Ports on the host side (inside the private namespace): not the defaults, so nothing can clash.
SIGNAL_PORT=28765 WEB_PORT=28080 SENDER_HEALTH_PORT=28766
DCLINT=dclint@3.1.0 DOCKERFILE_UTILS=dockerfile-utils@0.16.3

step() { printf '\n--- docker/verify: %s\n' "$*"; }
fail() {
  printf 'docker/verify: FAIL: %s\n' "$*" >&2
  exit 1
}
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- part 2 of the run, inside the private network namespace ---------------------------------------
if [ "${1:-}" = --inside ]; then
  NAME=robocam-verify-$$
  SENDER_TOKEN=verify-$$-$RANDOM
  LOGS=$2
  containers=()
  # shellcheck disable=SC2317 # called from the EXIT trap
  dump_logs() {
    for c in "${containers[@]}"; do
      echo "--- logs of $c" >&2
      podman logs "$c" 2>&1 | tail -n 25 >&2 || true
    done
  }
  # shellcheck disable=SC2317 # the EXIT trap
  cleanup() {
    status=$?
    [ "$status" -eq 0 ] || dump_logs
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    exit "$status"
  }
  trap cleanup EXIT
  run() { # run NAME-SUFFIX podman-run-args... ; no systemd here: healthchecks are run by hand below
    local name=$NAME-$1
    shift
    containers+=("$name")
    podman run -d --name "$name" --health-interval=disable "$@" >/dev/null 2>>"$LOGS/podman-run.log" ||
      fail "podman run $name: $(tail -n 5 "$LOGS/podman-run.log")"
  }
  wait_healthy() { # the image's own HEALTHCHECK, run until it passes (30 s at most)
    local name=$NAME-$1 deadline=$((SECONDS + 30))
    until podman healthcheck run "$name" >/dev/null 2>&1; do
      [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || fail "$name exited while starting"
      [ "$SECONDS" -lt "$deadline" ] || fail "$name: HEALTHCHECK did not pass within 30 s"
      sleep 0.5
    done
    echo "$name: HEALTHCHECK healthy, user $(podman exec "$name" id -un), PID 1 $(podman exec "$name" cat /proc/1/comm)"
  }
  http_get() { # http_get URL REGEX: status 200 and a body matching REGEX
    # shellcheck disable=SC2016 # JavaScript, not shell
    node --input-type=module -e '
      const [url, pattern] = process.argv.slice(1);
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.status !== 200 || !new RegExp(pattern).test(body)) {
        console.error(`GET ${url}: ${response.status} ${body.slice(0, 200)}`);
        process.exit(1);
      }
      console.log(`GET ${url}: ${response.status} ${response.headers.get("content-type")}, ${body.length} bytes`);
    ' "$1" "$2" || fail "GET $1"
  }

  step "starting the stack as docker/compose.yaml does (signal :$SIGNAL_PORT, web :$WEB_PORT, sender health :$SENDER_HEALTH_PORT)"
  run signal -p "0.0.0.0:$SIGNAL_PORT:8765" -e PORT=8765 -e LOG_LEVEL=info -e SENDER_TOKEN="$SENDER_TOKEN" \
    "localhost/robocam-signal:$TAG"
  wait_healthy signal # compose: the sender depends on signal being healthy
  run sender --network host -e SIGNALING_URL="ws://127.0.0.1:$SIGNAL_PORT" -e SENDER_TOKEN="$SENDER_TOKEN" \
    -e CAMERAS=testpattern:320x240@15 -e CODEC=vp8 -e HEALTH_PORT="$SENDER_HEALTH_PORT" -e LOG_LEVEL=info \
    "localhost/robocam-sender:$TAG"
  run web -p "0.0.0.0:$WEB_PORT:8080" -e PORT=8080 -e SIGNALING_PORT="$SIGNAL_PORT" -e LOG_LEVEL=info \
    "localhost/robocam-web:$TAG"
  wait_healthy sender # 200 only once registered with the signaling server (with the token)
  wait_healthy web

  step "viewer page"
  http_get "http://127.0.0.1:$WEB_PORT/" '<html'
  http_get "http://127.0.0.1:$WEB_PORT/config.json" "ws://127\\.0\\.0\\.1:$SIGNAL_PORT"

  step "a werift viewer on the host side watches the containerized sender"
  t0=$(date +%s.%N)
  timeout 60 node docker/verify-viewer.ts "ws://127.0.0.1:$SIGNAL_PORT" 20 30000 || fail "the viewer received no video"
  echo "viewer done in $(seconds_since "$t0") s"

  step "the sender runs on jemalloc, relaunched with its V8 heap flags"
  # tini's own arguments name main.js too: the node process is the line that starts with node.
  sender_process=$(podman top "$NAME-sender" hpid args | grep -E '^[0-9]+ +[^ ]*node .*sender/dist/main\.js') ||
    fail "no sender process"
  echo "$sender_process"
  grep -q -- '--optimize-for-size' <<<"$sender_process" || fail "the sender runs without its heap flags"
  grep -q libjemalloc "/proc/$(awk '{ print $1 }' <<<"$sender_process")/maps" || fail "the sender does not use jemalloc"

  stop_checked() { # SIGTERM with 10 s grace: the app must exit 0, in time
    local t0 took code
    t0=$(date +%s.%N)
    podman stop -t 10 "$NAME-$1" >/dev/null
    took=$(seconds_since "$t0")
    code=$(podman inspect -f '{{.State.ExitCode}}' "$NAME-$1")
    echo "$1: exit code $code after ${took} s"
    [ "$code" = 0 ] || fail "$1 exited with $code on SIGTERM"
    awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "$1 took ${took} s to stop"
  }

  step "stopping the sender (SIGTERM, 10 s grace)"
  stop_checked sender

  # The alternative in docker/compose.yaml's comments: the sender on the bridge network, media on a
  # fixed UDP range published on the host, the host's address announced. A second interface gives
  # the namespace a LAN-like address; direct packets to the container's own address are dropped,
  # so the video can only arrive through the published ports.
  step "alternative networking: sender on the bridge, RTC_PORT_RANGE published, ANNOUNCED_IPS"
  { ip link add rclan0 type veth peer name rclan1 && ip addr add 10.199.0.1/24 dev rclan0 &&
    ip link set rclan0 up && ip link set rclan1 up; } || fail "could not add a LAN-like interface"
  signal_ip=$(podman inspect -f '{{.NetworkSettings.IPAddress}}' "$NAME-signal")
  run sender-bridged -p 40000-40019:40000-40019/udp -e SIGNALING_URL="ws://$signal_ip:8765" \
    -e SENDER_TOKEN="$SENDER_TOKEN" -e RTC_PORT_RANGE=40000-40019 -e ANNOUNCED_IPS=10.199.0.1 \
    -e CAMERAS=testpattern:320x240@15 -e LOG_LEVEL=info "localhost/robocam-sender:$TAG"
  wait_healthy sender-bridged
  sender_ip=$(podman inspect -f '{{.NetworkSettings.IPAddress}}' "$NAME-sender-bridged")
  iptables -A OUTPUT -p udp -d "$sender_ip" -m conntrack ! --ctstate DNAT -j DROP || fail "iptables"
  timeout 60 node docker/verify-viewer.ts "ws://127.0.0.1:$SIGNAL_PORT" 20 30000 ||
    fail "no video through the published RTC_PORT_RANGE"
  echo "packets dropped on the direct path: $(iptables -L OUTPUT -v -n | awk '/DROP/ { print $1 }')"

  step "stopping the rest (SIGTERM, 10 s grace)"
  for app in sender-bridged web signal; do stop_checked "$app"; done
  exit 0
fi

# --- part 1: tools, lint, build; then part 2 in the namespace ---------------------------------------
started=$(date +%s.%N)
[ "$(id -u)" -eq 0 ] || fail "needs root (podman, apt-get, network namespaces), as in CI"
if ! [ -f "$SHARED/oci/make-node-base.sh" ] || ! [ -x "$SHARED/netns/run-isolated.sh" ]; then
  fail "needs $SHARED/oci and $SHARED/netns beside the repository"
fi
LOGS=$(mktemp -d /tmp/robocam-verify.XXXXXX)

step "tools"
if ! node --version 2>/dev/null | grep -q '^v24\.'; then
  # shellcheck source=scripts/use-node24.sh
  source scripts/use-node24.sh
fi
bash scripts/install-system-deps.sh podman buildah runc iptables iproute2 shellcheck
LINT=$TOOLS/docker-lint
if ! [ -x "$LINT/node_modules/.bin/dclint" ] || ! [ -x "$LINT/node_modules/.bin/dockerfile-utils" ] ||
  [ "$(cat "$LINT/versions" 2>/dev/null)" != "$DCLINT $DOCKERFILE_UTILS" ]; then
  mkdir -p "$LINT"
  npm install --prefix "$LINT" --no-save --no-package-lock --no-audit --no-fund "$DCLINT" "$DOCKERFILE_UTILS" >/dev/null
  echo "$DCLINT $DOCKERFILE_UTILS" >"$LINT/versions"
fi
echo "node $(node --version), $(podman --version), shellcheck $(shellcheck --version | awk '/^version/ { print $2 }'), $DCLINT, $DOCKERFILE_UTILS"

step "lint: compose schema, Dockerfiles, shell scripts"
"$LINT/node_modules/.bin/dclint" --max-warnings 0 docker/compose.yaml || fail "dclint docker/compose.yaml"
echo "docker/compose.yaml: valid (dclint)"
# robocam.Dockerfile (the one-process single container) is linted, not built here.
for app in "${APPS[@]}" robocam; do
  "$LINT/node_modules/.bin/dockerfile-utils" lint "docker/$app.Dockerfile" || fail "dockerfile-utils: docker/$app.Dockerfile"
  echo "docker/$app.Dockerfile: clean (dockerfile-utils)"
done
bash -n start.sh || fail "bash -n start.sh"
shellcheck -x start.sh docker/verify.sh scripts/use-node24.sh scripts/node24.sh scripts/install-system-deps.sh || fail "shellcheck"
echo "start.sh, docker/verify.sh: clean (shellcheck)"

step "base image"
if ! podman image exists docker.io/library/node:24-bookworm-slim; then
  t0=$(date +%s.%N)
  "$SHARED/oci/make-node-base.sh" >"$LOGS/base.log" 2>&1 || {
    tail -n 30 "$LOGS/base.log" >&2
    fail "make-node-base.sh"
  }
  echo "made the stand-in node:24-bookworm-slim in $(seconds_since "$t0") s"
else
  echo "node:24-bookworm-slim is there"
fi

step "build (podman build --pull=never --format docker; logs in $LOGS)"
for app in "${APPS[@]}"; do
  t0=$(date +%s.%N)
  version=$(node -p "require('./apps/$app/package.json').version")
  podman build --pull=never --format docker --build-arg VERSION="$version" \
    -f "docker/$app.Dockerfile" -t "localhost/robocam-$app:$TAG" . >"$LOGS/build-$app.log" 2>&1 || {
    tail -n 40 "$LOGS/build-$app.log" >&2
    fail "podman build docker/$app.Dockerfile"
  }
  echo "robocam-$app: built in $(seconds_since "$t0") s"
done

# The viewer runs on the host side with the workspace's own werift, node-av and libraries.
if ! [ -d node_modules/werift ] || ! [ -d node_modules/node-av ]; then
  step "workspace dependencies for the viewer"
  node docker/npm-ci.mjs
fi
if ! [ -f libs/protocol/dist/index.js ] || ! [ -f libs/testpattern/dist/index.js ]; then
  npx nx run-many -t build -p protocol testpattern --skipSync --outputStyle=static
fi

"$SHARED/netns/run-isolated.sh" bash "$ROOT/docker/verify.sh" --inside "$LOGS"

step "summary"
for app in "${APPS[@]}"; do
  podman image inspect "localhost/robocam-$app:$TAG" --format \
    "robocam-$app:$TAG  {{.Size}}  version {{index .Labels \"org.opencontainers.image.version\"}}" |
    awk '{ printf "%-22s %6.0f MB  %s %s\n", $1, $2 / 1e6, $3, $4 }'
done
base=$(podman image inspect docker.io/library/node:24-bookworm-slim --format '{{.Size}}')
awk -v b="$base" 'BEGIN { printf "%-22s %6.0f MB  (the local stand-in base image)\n", "node:24-bookworm-slim", b / 1e6 }'
rm -rf "$LOGS"
echo "docker/verify: OK in $(seconds_since "$started") s"
