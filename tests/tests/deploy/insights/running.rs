//! The real server binary, run with its stdout and stderr captured line by line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tests::process::binary;

use super::logs_insights::{Line, line};

/// The server's process with both of its output streams captured, line by line.
pub(super) struct Running {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    pub(super) fn start(env: &[(String, String)]) -> (Running, std::net::SocketAddr) {
        let mut command = Command::new(binary("mcp-server"));
        command
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the server starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let lines = lines.clone();
            readers.push(std::thread::spawn(move || {
                for l in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(l);
                }
            }));
        }
        let running = Running {
            child,
            lines,
            readers,
        };
        let listening = running.wait_for(
            |l| l.message() == "listening",
            "listening",
            Duration::from_secs(30),
        );
        let addr = listening.json["address"].as_str().unwrap().parse().unwrap();
        (running, addr)
    }

    pub(super) fn wait_for(
        &self,
        found: impl Fn(&Line) -> bool,
        what: &str,
        within: Duration,
    ) -> Line {
        let started = Instant::now();
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .map(|l| line(l))
                .find(|l| found(l))
            {
                return l;
            }
            assert!(
                started.elapsed() < within,
                "no line {what} within {within:?}:\n{}",
                self.lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and collects every line once the process has exited.
    pub(super) fn stop(mut self) -> Vec<String> {
        // SAFETY: kill(2) on our own child with a valid signal has no memory effects.
        let rc = unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        assert_eq!(rc, 0);
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(15) {
                let _ = self.child.kill();
                panic!("the server did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
