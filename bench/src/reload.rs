//! Hot reload: the time from saving a handler's source to the first response from the new code, on ftb-offline
//! and on `cargo lambda watch`, beside the time cargo alone takes for the same incremental build. The handler
//! crate lives in a temporary folder and builds into the repository's target folder (dev profile, as in
//! development). `cargo lambda watch` that cannot start (cargo-lambda missing) gives its reason instead.

use crate::processes::{Owned, Stop};
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use std::path::Path;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

const MANIFEST: &str = "[package]\nname = \"ftb-bench-reload\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[[bin]]\nname = \"bench-reload\"\npath = \"src/main.rs\"\n\n[dependencies]\nlambda_runtime = \"1.5\"\ntokio = { version = \"1\", features = [\"full\"] }\nserde_json = { version = \"1\", features = [\"preserve_order\"] }\n\n[workspace]\n\n[profile.dev]\ndebug = false\n\n[profile.dev.package.\"*\"]\nopt-level = 1\n";

fn handler(version: usize) -> String {
    format!("use lambda_runtime::{{service_fn, Error, LambdaEvent}};\nuse serde_json::{{json, Value}};\n\nasync fn handle(_: LambdaEvent<Value>) -> Result<Value, Error> {{\n    Ok(json!({{ \"version\": {version} }}))\n}}\n\n#[tokio::main]\nasync fn main() -> Result<(), Error> {{\n    lambda_runtime::run(service_fn(handle)).await\n}}\n")
}

pub struct ReloadFigures {
    pub save_to_new_code: Duration,
    /// The same on `cargo lambda watch`, or why it could not start.
    pub cargo_lambda_watch: Result<Duration, String>,
    pub cargo_build: Duration,
}

pub async fn measure(root: &Path) -> ReloadFigures {
    let dir = std::env::temp_dir().join(format!("ftb-bench-reload-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/main.rs"), handler(0)).unwrap();
    std::fs::write(
        dir.join("serverless.yml"),
        "service: bench-reload\nprovider:\n  name: aws\nfunctions:\n  hello:\n    handler: bootstrap\n    package: { artifact: target/lambda/bench-reload/bootstrap.zip }\n",
    )
    .unwrap();
    std::env::set_var("CARGO_TARGET_DIR", root.join("target"));
    let mut options = ftb_offline::EmulatorOptions::new(dir.join("serverless.yml"));
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options.watch = true;
    let emulator = ftb_offline::Emulator::start(options).await.expect("the reload emulator starts");
    let lambda = emulator.lambda().clone();
    let mut reloads = Vec::new();
    for run in 1..=RUNS {
        let saved = Instant::now();
        std::fs::write(dir.join("src/main.rs"), handler(run)).unwrap();
        loop {
            let response = lambda
                .invoke("hello", ftb_offline::lambda::InvokeRequest::new("{}"))
                .await
                .expect("the function exists");
            if let ftb_offline::lambda::FunctionResult::Success(body) = response.result {
                if serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["version"].as_u64())
                    == Some(run as u64)
                {
                    break;
                }
            }
            assert!(saved.elapsed() < Duration::from_secs(120), "the reload did not happen within 120 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        reloads.push(saved.elapsed());
    }
    emulator.stop().await;
    let watch = cargo_lambda_watch(&dir, RUNS + 1).await;
    let mut builds = Vec::new();
    for run in RUNS * 2 + 1..=RUNS * 3 {
        std::fs::write(dir.join("src/main.rs"), handler(run)).unwrap();
        let started = Instant::now();
        let status = std::process::Command::new("cargo")
            .args(["build", "-q", "--bin", "bench-reload"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        builds.push(started.elapsed());
    }
    let _ = std::fs::remove_dir_all(&dir);
    reloads.sort();
    builds.sort();
    ReloadFigures { save_to_new_code: reloads[RUNS / 2], cargo_lambda_watch: watch, cargo_build: builds[RUNS / 2] }
}

/// The same edits under `cargo lambda watch` (its Invoke API), versions `first..first + RUNS`: the median time,
/// or why it could not start. It runs as its own process group (with the `cargo run` it starts), killed when done
/// or when this fails.
async fn cargo_lambda_watch(dir: &Path, first: usize) -> Result<Duration, String> {
    let port = crate::cli::free_port();
    let mut command = std::process::Command::new("cargo");
    crate::cli::clear_cargo_run_variables(&mut command);
    command.current_dir(dir).args([
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
    ]);
    let mut watch = Owned::spawn(&mut command, Stop::KillGroup, "")?;
    let addr = format!("127.0.0.1:{port}");
    // A request that arrives while cargo lambda watch restarts the function can stay unanswered: give up on it
    // after 2 s and ask again, as a user would.
    let version = || async {
        let invoke = crate::load::post_json(&addr, "/2015-03-31/functions/bench-reload/invocations");
        tokio::time::timeout(Duration::from_secs(2), invoke).await.ok().flatten()
    };
    let started = Instant::now();
    while version().await.is_none() {
        if let Some(reason) = watch.exited() {
            return Err(reason);
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err(watch.explain("did not answer within 5 minutes"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut reloads = Vec::new();
    for run in first..first + RUNS {
        let saved = Instant::now();
        std::fs::write(dir.join("src/main.rs"), handler(run)).unwrap();
        while version().await.and_then(|v| v["version"].as_u64()) != Some(run as u64) {
            if saved.elapsed() > Duration::from_secs(120) {
                return Err(watch.explain("did not reload within 120 s"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        reloads.push(saved.elapsed());
    }
    drop(watch);
    reloads.sort();
    Ok(reloads[RUNS / 2])
}
