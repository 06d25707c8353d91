//! Starting the real server binary and reading what it logs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The workspace root (this crate's parent folder).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Builds the server binary and its examples once per test process, so a test never runs a
/// stale binary. Cargo is the one running the tests, so it is at hand.
fn ensure_built() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // Tests run from target/<profile>/deps/, the benchmark from target/<profile>/; the
        // server binaries of the same profile live in target/<profile>/.
        let exe = std::env::current_exe().expect("test executable path");
        let mut dir = exe.parent().expect("executable has a folder").to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        // `cargo test --workspace --no-run` resolves features exactly as the test command does,
        // so after `cargo test --workspace` it finds everything fresh (a narrower `cargo build -p`
        // unifies features differently and rebuilds half the tree). It builds the binaries and
        // examples along with the test executables. A release benchmark needs only the binaries
        // and examples: `cargo build --workspace --bins --examples` unifies features the same way
        // (examples take the dev-dependencies) without linking every test executable with LTO.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        let profile = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
        if profile != "debug" {
            // `release`, or a custom profile such as `profiling` (Cargo.toml).
            build.args([
                "build",
                "--workspace",
                "--bins",
                "--examples",
                "--profile",
                profile,
                "--quiet",
            ]);
        } else {
            build.args(["test", "--workspace", "--no-run", "--quiet"]);
        }
        let status = build
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building mcp-server failed");
        dir
    })
}

/// Path of a workspace binary (`mcp-server`) or example (`examples/conformance-server`).
pub fn binary(name: &str) -> PathBuf {
    let path = ensure_built().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    /// What it wrote on stdout (EMF metric lines in HTTP mode), a line each.
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the default server with these environment variables (on a free loopback port).
    pub fn start(env: &[(&str, &str)]) -> Server {
        Self::start_binary("mcp-server", env)
    }

    /// Starts the conformance fixture server.
    pub fn start_fixtures(env: &[(&str, &str)]) -> Server {
        Self::start_binary("examples/conformance-server", env)
    }

    /// Starts `binary` with `env` over a clean base (loopback, port 0, JSON logs).
    pub fn start_binary(name: &str, env: &[(&str, &str)]) -> Server {
        Self::start_command(Command::new(binary(name)), env)
    }

    /// Starts a prepared command (e.g. under `taskset`) the same way.
    pub fn start_command(mut command: Command, env: &[(&str, &str)]) -> Server {
        // Run from outside the repository: the binary must not depend on its working directory.
        command
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("LOG_FORMAT", "json")
            .env("LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The allocator's options may be tried on a benchmark without a rebuild.
        if let Ok(conf) = std::env::var("_RJEM_MALLOC_CONF") {
            command.env("_RJEM_MALLOC_CONF", conf);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("server starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        {
            let lines = stdout.clone();
            let out = child.stdout.take().expect("stdout piped");
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(addr) = listening_address(&line)
                        && let Some(tx) = tx.take()
                    {
                        let _ = tx.send(addr);
                    }
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not report its address; its log:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Server {
            child: Some(child),
            addr,
            logs,
            stdout,
        }
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Every line written on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits (bounded) until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.logs().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                started.elapsed() < timeout,
                "no log line with {needle:?} within {timeout:?}; log:\n{}",
                self.logs().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Resident memory of the process in bytes (from /proc).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("VmRSS line")
    }

    /// Sends a signal (e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("running").id() as i32;
        // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits (bounded) for the process to exit, returning its exit code and how long it took.
    pub fn wait_exit(&mut self, timeout: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return (status.code(), started.elapsed());
            }
            assert!(
                started.elapsed() < timeout,
                "server still running after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn listening_address(line: &str) -> Option<std::net::SocketAddr> {
    // LOG_FORMAT=text: `... INFO mcp_server: listening address=127.0.0.1:PORT mcp=...`
    if let Some((_, rest)) = line.split_once(": listening address=") {
        return rest.split_whitespace().next()?.parse().ok();
    }
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("message")?.as_str()? != "listening" {
        return None;
    }
    value.get("address")?.as_str()?.parse().ok()
}

/// The server's CPU time so far (user + system), in microseconds.
pub fn cpu_micros(pid: u32) -> f64 {
    let (user, system) = cpu_split_micros(pid);
    user + system
}

/// The server's CPU time so far in its own code and in the kernel's, in microseconds.
pub fn cpu_split_micros(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').expect("stat has a command") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // SAFETY: sysconf with a valid name.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let micros = |field: &str| field.parse::<f64>().expect("ticks") / per_second * 1e6;
    (micros(fields[11]), micros(fields[12]))
}
