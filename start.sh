#!/usr/bin/env bash
# Builds and starts robocam (signaling server, sender, viewer page) with Docker Compose, or with
# Podman when Docker is not usable:  ./start.sh [extra `compose up` options, e.g. -d]
# Settings come from the environment, e.g.  SENDER_TOKEN=secret CAMERAS=/dev/video0 ./start.sh
# (docker/compose.yaml lists them; the README's "Docker" section explains cameras and networking).
set -euo pipefail
cd "$(dirname "$0")"
COMPOSE_FILE=docker/compose.yaml

die() {
  printf 'start.sh: %s\n' "$*" >&2
  exit 1
}

# Docker with Compose v2 and a reachable daemon; else Podman with a compose provider; else say why not.
compose=()
problem=
if command -v docker >/dev/null 2>&1; then
  docker_compose=()
  if docker compose version >/dev/null 2>&1; then
    docker_compose=(docker compose)
  elif docker-compose version 2>/dev/null | grep -qE '(v|version )2\.'; then
    docker_compose=(docker-compose)
  fi
  if [ "${#docker_compose[@]}" -eq 0 ]; then
    problem="Docker is installed but Compose v2 is not: install the docker-compose-plugin package (https://docs.docker.com/compose/install/)."
  elif ! docker info >/dev/null 2>&1; then
    problem="cannot reach the Docker daemon: start it (sudo systemctl start docker) or give your user access (sudo usermod -aG docker \"\$USER\", then log in again)."
  else
    compose=("${docker_compose[@]}")
  fi
fi
if [ "${#compose[@]}" -eq 0 ] && command -v podman >/dev/null 2>&1; then
  if podman compose version >/dev/null 2>&1; then
    compose=(podman compose)
  elif command -v podman-compose >/dev/null 2>&1; then
    # Before 1.0.6 it also attaches a `network_mode: host` service (the sender) to the project
    # network, which podman refuses; Debian 12 ships 1.0.3.
    version=$(podman-compose version 2>/dev/null | grep -oE 'version +[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 | awk '{ print $2 }') || true
    if printf '%s\n' "${version:-0.0.0}" | awk -F. '{ exit !($1 == 0 || ($1 == 1 && $2 == 0 && $3 < 6)) }'; then
      problem="podman-compose ${version:-(unknown version)} cannot start the host-networked sender; it needs 1.0.6 or later (e.g. pipx install podman-compose), or use Docker Compose v2."
    else
      compose=(podman-compose)
    fi
  else
    problem=${problem:-"Podman is installed but no compose provider is: install podman-compose 1.0.6 or later (e.g. pipx install podman-compose; Debian 12's package is older) or Docker Compose v2."}
  fi
  # Docker image format, so that the images keep their HEALTHCHECK (OCI has no such field).
  export BUILDAH_FORMAT=docker
fi
if [ "${#compose[@]}" -eq 0 ]; then
  die "${problem:-"neither Docker nor Podman is installed. Install Docker Engine with the Compose plugin (https://docs.docker.com/engine/install/) or Podman with podman-compose (1.0.6 or later), then run ./start.sh again."}"
fi

# Where to point a browser: this machine's first LAN address, if it has one.
address=$(hostname -I 2>/dev/null | awk '{ print $1 }') || true
url="http://${address:-localhost}:${WEB_PORT:-8080}"

if [ -z "${CAMERAS:-}" ] && [ -e /dev/video0 ]; then
  echo "start.sh: streaming the test pattern; a camera is at /dev/video0 — to stream it, set CAMERAS=/dev/video0 and uncomment its devices: lines in $COMPOSE_FILE"
fi
echo "start.sh: ${compose[*]} -f $COMPOSE_FILE up --build $*"
echo "start.sh: once the services are up, the viewer page is at $url"
status=0
"${compose[@]}" -f "$COMPOSE_FILE" up --build "$@" || status=$?
for arg in "$@"; do
  if [ "$status" -eq 0 ] && { [ "$arg" = -d ] || [ "$arg" = --detach ]; }; then
    echo "start.sh: running in the background; viewer page: $url (stop: ${compose[*]} -f $COMPOSE_FILE down)"
  fi
done
exit "$status"
