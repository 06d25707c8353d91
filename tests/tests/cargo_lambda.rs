//! The local Lambda flow a developer uses, scripted: `cargo lambda watch` runs the function in
//! the runtime emulator with moto as AWS, and `cargo lambda invoke alb-timeout-lambda
//! --data-file ...` sends it the sample events kept in `alb-timeout-lambda/events/`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::process::workspace_root;
use tests::tools::{Moto, python_report, run, tools_dir};

fn path_with_venv() -> String {
    format!(
        "{}:{}",
        tools_dir().join("venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `cargo lambda watch` in its own process group, so the function it spawns dies with it.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: signalling our own child's process group.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> Command {
    let cargo_lambda = tools_dir().join("venv/bin/cargo-lambda");
    assert!(
        cargo_lambda.exists(),
        "cargo-lambda is missing: run scripts/install-test-tools.sh (pip cargo-lambda ziglang)"
    );
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .arg("lambda")
        .current_dir(workspace_root())
        .env("PATH", path_with_venv());
    command
}

fn invoke(port: u16, event: &Value, name: &str) {
    let file =
        std::env::temp_dir().join(format!("cargo-lambda-{}-{name}.json", std::process::id()));
    std::fs::write(&file, event.to_string()).unwrap();
    let mut command = cargo_lambda();
    command
        .args([
            "invoke",
            "alb-timeout-lambda",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "--data-file",
        ])
        .arg(&file);
    // The first invocation waits for `watch` to build the function.
    let (code, output) = run(command, Duration::from_secs(900));
    assert_eq!(
        code,
        Some(0),
        "cargo lambda invoke {name} failed:\n{output}"
    );
    let _ = std::fs::remove_file(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_lambda_watch_and_invoke_run_the_sample_events_against_moto() {
    let moto = Moto::start();
    let account = python_report("moto_setup.py", &[&moto.url]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::env::temp_dir().join(format!("cargo-lambda-watch-{}.log", std::process::id()));
    let mut command = cargo_lambda();
    command
        .args([
            "watch",
            "--ignore-changes",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ])
        .args(["--env-var", &format!("AWS_ENDPOINT_URL={}", moto.url)])
        .args([
            "--env-var",
            "AWS_ACCESS_KEY_ID=test",
            "--env-var",
            "AWS_SECRET_ACCESS_KEY=test",
            "--env-var",
            "AWS_REGION=us-east-1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(log.with_extension("err")).unwrap(),
        ));
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let _watch = Watch(command.spawn().expect("cargo lambda watch starts"));
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "cargo lambda watch did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let sample = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(
                workspace_root().join(format!("alb-timeout-lambda/events/{name}.json")),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let mut create = sample("create");
    create["ResponseURL"] = account["responseUrls"]["create"].clone();
    invoke(port, &create, "create");
    let answer = moto.stored_answer(&account, "create").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["LoadBalancerArn"], account["public"]);
    let id = answer["PhysicalResourceId"].clone();

    let mut update = sample("update");
    update["ResponseURL"] = account["responseUrls"]["update"].clone();
    update["PhysicalResourceId"] = id.clone();
    invoke(port, &update, "update");
    let answer = moto.stored_answer(&account, "update").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["Data"]["IdleTimeoutSeconds"], "900");
    assert_eq!(answer["PhysicalResourceId"], id);

    let mut delete = sample("delete");
    delete["ResponseURL"] = account["responseUrls"]["delete"].clone();
    delete["PhysicalResourceId"] = id;
    invoke(port, &delete, "delete");
    let answer = moto.stored_answer(&account, "delete").await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["Reason"].as_str().map(|r| r.contains("restored")),
        Some(true),
        "{answer}"
    );
}
