#!/usr/bin/env bash
# Installs the Debian packages robocam's tests use, when missing, or the packages named as
# arguments (docker/verify.sh passes its own). Needs root (CI runs as root).
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
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
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
