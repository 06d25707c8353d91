#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, unit tests, and the end-to-end tests that
# drive the real binaries with real MCP clients. Installs the external tools it needs first
# (into .tools/, idempotently). Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-test-tools.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --workspace "$@"
