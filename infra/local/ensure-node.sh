#!/usr/bin/env bash
# Prints the folder of a `node` at least as new as the major version in .nvmrc (Node.js 22 LTS):
# the machine's own when it is new enough; else the official build from the npm registry (package
# node-<os>-<arch>, the one npm's `node` package installs), unpacked once into
# ~/.cache/saga-platform. Fails with one clear message when neither can be had.
# Use: PATH="$(bash infra/local/ensure-node.sh):$PATH"
set -euo pipefail
cd "$(dirname "$0")/../.."

want=$(tr -dc '0-9' <.nvmrc)
have=$(node -p 'process.versions.node' 2>/dev/null || echo none)
if [ "${have%%.*}" != none ] && [ "${have%%.*}" -ge "$want" ]; then
  dirname "$(command -v node)"
  exit 0
fi

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
package="node-$os-$arch@$want"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/saga-platform/node-$want-$os-$arch"

fail() {
  echo "ensure-node: Node.js $want or newer is required (.nvmrc, package.json engines); this machine has $have, and $package could not be installed from the npm registry ($1). Install Node.js $want (e.g. nvm install) and run again." >&2
  exit 1
}

if [ ! -x "$dir/bin/node" ]; then
  command -v npm >/dev/null || fail 'npm is missing'
  echo "ensure-node: node $have is older than $want: installing $package from the npm registry into $dir" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$package" >/dev/null 2>&1) || fail 'npm pack failed'
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1 package/bin/node package/LICENSE || fail 'unpacking failed'
fi
"$dir/bin/node" -e 'process.exit(0)' || fail "$dir/bin/node does not run here"
echo "ensure-node: using $("$dir/bin/node" -v) from $dir" >&2
echo "$dir/bin"
