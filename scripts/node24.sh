#!/bin/sh
# `sh scripts/node24.sh COMMAND [ARG…]` runs COMMAND with a Node >= 24 first on PATH (installed
# from the npm registry into ~/.cache/robocam-tools on first use when the machine's Node is older;
# see use-node24.sh). `npm start` goes through it, so the README's run command works as typed on a
# machine that has only its distribution's Node 20 and npm.
set -eu
# shellcheck source=scripts/use-node24.sh
. "$(dirname "$0")/use-node24.sh"
exec "$@"
