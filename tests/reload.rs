//! Hot reload end to end: a real handler crate is edited while the emulator serves it, under load; the next
//! requests run the new code, a compile error leaves the old code serving, and no request fails throughout.
//!
//! The crate is written to a temporary folder (never into the repository) and built into the repository's
//! target folder, so its dependencies are already compiled.

use ftb_offline::lambda::build::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use ftb_offline_tests::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const MANIFEST: &str = r#"[package]
name = "ftb-reload-fixture"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "reload-me"
path = "src/main.rs"

[dependencies]
lambda_runtime = "1.5"
tokio = { version = "1", features = ["full"] }
serde_json = { version = "1", features = ["preserve_order"] }

[workspace]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
"#;

const SERVICE: &str = "service: reload\nprovider:\n  name: aws\n  runtime: provided.al2023\nfunctions:\n  hello:\n    handler: bootstrap\n    package: { artifact: target/lambda/reload-me/bootstrap.zip }\n";

fn handler(version: &str) -> String {
    format!(
        "use lambda_runtime::{{service_fn, Error, LambdaEvent}};\nuse serde_json::{{json, Value}};\n\nasync fn handle(_: LambdaEvent<Value>) -> Result<Value, Error> {{\n    Ok(json!({{ \"version\": {version} }}))\n}}\n\n#[tokio::main]\nasync fn main() -> Result<(), Error> {{\n    lambda_runtime::run(service_fn(handle)).await\n}}\n"
    )
}

fn write_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("serverless.yml"), SERVICE).unwrap();
    std::fs::write(dir.join("src/main.rs"), handler("1")).unwrap();
}

async fn version(client: &aws_sdk_lambda::Client) -> Result<Value, String> {
    let output = client.invoke().function_name("hello").send().await.map_err(|e| format!("{e:?}"))?;
    if let Some(error) = output.function_error() {
        return Err(format!("{error}: {}", String::from_utf8_lossy(output.payload().unwrap().as_ref())));
    }
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).map_err(|e| e.to_string())?;
    Ok(body["version"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reload_under_load_and_a_broken_build_keeps_the_old_code_serving() {
    let dir = tempfile::tempdir().unwrap();
    write_crate(dir.path());
    // Share the repository's build output, where the dependencies are already compiled.
    std::env::set_var("CARGO_TARGET_DIR", repo_root().join("target"));
    let mut options = EmulatorOptions::new(dir.path().join("serverless.yml"));
    options.lambda_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options.watch = true;
    let emulator: Emulator = start(options).await;
    let client = lambda_client(&emulator);
    assert_eq!(version(&client).await.unwrap(), json!(1));

    let stop = Arc::new(AtomicBool::new(false));
    let (served, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(std::sync::Mutex::new(Vec::<String>::new())));
    let load = {
        let (client, stop, served, failures) = (client.clone(), stop.clone(), served.clone(), failures.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                match version(&client).await {
                    Ok(_) => served.fetch_add(1, Ordering::SeqCst),
                    Err(err) => {
                        failures.lock().unwrap().push(err);
                        0
                    }
                };
            }
        })
    };

    std::fs::write(dir.path().join("src/main.rs"), handler("2")).unwrap();
    assert!(wait_for_version(&client, 2).await, "the edit was picked up");

    std::fs::write(dir.path().join("src/main.rs"), handler("this is not rust")).unwrap();
    assert!(eventually(Duration::from_secs(180), || emulator.reloads().1 == 1).await, "the broken build was attempted");
    assert_eq!(version(&client).await.unwrap(), json!(2), "the previous build keeps serving");

    std::fs::write(dir.path().join("src/main.rs"), handler("3")).unwrap();
    assert!(wait_for_version(&client, 3).await, "the fix was picked up");

    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "requests failed during reloads: {failures:?}");
    assert!(served.load(Ordering::SeqCst) > 10, "the load kept running");
    assert_eq!(emulator.reloads(), (2, 1));
    emulator.stop().await;
}

async fn wait_for_version(client: &aws_sdk_lambda::Client, wanted: i64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while tokio::time::Instant::now() < deadline {
        if version(client).await.ok() == Some(json!(wanted)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
