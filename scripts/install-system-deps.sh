#!/usr/bin/env bash
# Installs the Debian packages robocam's tests use, when missing, or the packages named as
# arguments (docker/verify.sh passes its own). As root (CI) it installs them; as anyone else it
# prints the one `apt-get install` line to run and exits 1. `npm test` runs it first.
#   iproute2      the isolated network namespace for WebRTC tests
#   chromium      browser end-to-end tests (driven by playwright-core)
#   firefox-esr   the same end-to-end flows in Firefox (driven by puppeteer-core over WebDriver BiDi)
#   coturn        a real TURN server for the relay-only end-to-end test
#   v4l-utils     v4l2-ctl for the V4L2 device tests (run inside a VM that uses this machine's binaries)
#   gcc, make     to build v4l2loopback for the MJPEG device test
# The VM (qemu) and podman are installed by ../shared's own scripts when they first run.
set -euo pipefail
packages=("$@")
[ "${#packages[@]}" -gt 0 ] || packages=(iproute2 chromium firefox-esr coturn v4l-utils gcc make)
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "not a Debian or Ubuntu system: cannot check for ${packages[*]}; install their equivalents if tests fail" >&2
  exit 0
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "robocam's tests need Debian packages that are missing; install them, then run the command again:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The tests start their own turnserver inside the isolated namespace; Debian's coturn service
  # (a TURN server on the machine's real interfaces) is not wanted.
  if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now coturn >/dev/null 2>&1 || true
  fi
fi
