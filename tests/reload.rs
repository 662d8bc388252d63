//! Hot reload end to end: a real handler crate is edited while the emulator serves it, under load; the next
//! requests run the new code, a compile error leaves the old code serving, and no request fails throughout.
//! Then `serverless.yml` itself is edited live: routes, environment, queues and mappings come and go, and an
//! invalid edit leaves the running configuration in place.
//!
//! Each test writes its own crate (with its own binary name) to a temporary folder, never into the repository,
//! and builds it into the repository's target folder, so its dependencies are already compiled.

use ftb_offline::lambda::runtimes::cargo::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use ftb_offline_tests::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A crate of one binary; each test names its own, so their builds never overwrite each other's output.
fn manifest(binary: &str) -> String {
    format!("[package]\nname = \"ftb-{binary}-fixture\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[[bin]]\nname = \"{binary}\"\npath = \"src/main.rs\"\n{DEPENDENCIES}")
}

const DEPENDENCIES: &str = r#"
[dependencies]
lambda_runtime = "1.5"
tokio = { version = "1", features = ["full"] }
serde_json = { version = "1", features = ["preserve_order"] }

[workspace]

# The repository's dev profile (its Cargo.toml): with another, every dependency would be compiled again.
[profile.dev]
debug = false

[profile.dev.package."*"]
opt-level = 1
"#;

const SERVICE: &str = "service: reload\nprovider:\n  name: aws\n  runtime: provided.al2023\nfunctions:\n  hello:\n    handler: bootstrap\n    package: { artifact: target/lambda/reload-me/bootstrap.zip }\n";

fn handler(version: &str) -> String {
    format!(
        "use lambda_runtime::{{service_fn, Error, LambdaEvent}};\nuse serde_json::{{json, Value}};\n\nasync fn handle(_: LambdaEvent<Value>) -> Result<Value, Error> {{\n    Ok(json!({{ \"version\": {version}, \"greeting\": std::env::var(\"GREETING\").ok() }}))\n}}\n\n#[tokio::main]\nasync fn main() -> Result<(), Error> {{\n    lambda_runtime::run(service_fn(handle)).await\n}}\n"
    )
}

fn write_crate(dir: &Path, binary: &str, service: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest(binary)).unwrap();
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("serverless.yml"), service).unwrap();
    std::fs::write(dir.join("src/main.rs"), handler("1")).unwrap();
}

/// Options for an emulator of the crate in `dir` on free ports, watching for edits.
fn watching_options(dir: &Path) -> EmulatorOptions {
    // Share the repository's build output, where the dependencies are already compiled.
    std::env::set_var("CARGO_TARGET_DIR", repo_root().join("target"));
    let mut options = EmulatorOptions::new(dir.join("serverless.yml"));
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options.watch = true;
    options
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
    write_crate(dir.path(), "reload-me", SERVICE);
    let emulator: Emulator = start(watching_options(dir.path())).await;
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

    save(&dir.path().join("src/main.rs"), handler("2"));
    assert!(wait_for_version(&client, 2).await, "the edit was picked up");

    save(&dir.path().join("src/main.rs"), handler("this is not rust"));
    assert!(eventually(Duration::from_secs(180), || emulator.reloads().1 == 1).await, "the broken build was attempted");
    assert_eq!(version(&client).await.unwrap(), json!(2), "the previous build keeps serving");

    save(&dir.path().join("src/main.rs"), handler("3"));
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

/// The live-edited service: `hello` with a greeting, plus whatever `extra` adds (functions, then resources).
fn live_service(greeting: &str, extra_functions: &str, resources: &str) -> String {
    format!(
        "service: live\nprovider:\n  name: aws\n  runtime: provided.al2023\n  region: eu-north-1\nfunctions:\n  hello:\n    handler: bootstrap\n    package: {{ artifact: target/lambda/live-me/bootstrap.zip }}\n    environment: {{ GREETING: {greeting} }}\n    events:\n      - httpApi: GET /hello\n{extra_functions}{resources}"
    )
}

const ADDED_FUNCTIONS: &str = "  added:\n    handler: bootstrap\n    package: { artifact: target/lambda/live-me/bootstrap.zip }\n    events:\n      - httpApi: GET /added\n  worker:\n    handler: bootstrap\n    package: { artifact: target/lambda/live-me/bootstrap.zip }\n    events:\n      - sqs: { arn: !GetAtt JobsQueue.Arn, batchSize: 1 }\n";

const JOBS_QUEUE: &str =
    "resources:\n  Resources:\n    JobsQueue:\n      Type: AWS::SQS::Queue\n      Properties: { QueueName: live-jobs, VisibilityTimeout: 2 }\n";

/// Status and JSON body of `GET path` on the HTTP API.
async fn get(emulator: &Emulator, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{}{path}", emulator.endpoints().http_url())).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `GET path` until its status is `status`.
async fn wait_for_status(emulator: &Emulator, path: &str, status: u16) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if get(emulator, path).await.0 == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serverless_yml_edits_apply_live_and_an_invalid_edit_keeps_the_running_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serverless.yml");
    write_crate(dir.path(), "live-me", &live_service("one", "", ""));
    let emulator: Emulator = start(watching_options(dir.path())).await;
    assert_eq!(get(&emulator, "/hello").await, (200, json!({"version": 1, "greeting": "one"})));
    assert_eq!(get(&emulator, "/added").await.0, 404);
    let sqs = sqs_client(&emulator);

    // Added: a route, a function consuming a new queue; changed: hello's environment.
    save(&config, live_service("two", ADDED_FUNCTIONS, JOBS_QUEUE));
    assert!(wait_for_status(&emulator, "/added", 200).await, "the added route appears without a restart");
    assert_eq!(emulator.config_reloads().applied, 1);
    assert_eq!(get(&emulator, "/hello").await.1["greeting"], json!("two"), "the new environment applies");
    let queue_url = sqs.get_queue_url().queue_name("live-jobs").send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&queue_url).message_body("job").send().await.unwrap();
    let worker_ran = async {
        for _ in 0..200 {
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(&queue_url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .unwrap();
            let count = |name| attributes.attributes().unwrap()[&name].parse::<u32>().unwrap();
            use aws_sdk_sqs::types::QueueAttributeName as A;
            if count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible) == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(worker_ran.await, "the new mapping delivered the message to the new function, which deleted it");

    // Invalid: a mapping to a queue that does not exist, together with another greeting. Nothing changes.
    let broken = live_service("three", &ADDED_FUNCTIONS.replace("JobsQueue.Arn", "MissingQueue.Arn"), JOBS_QUEUE);
    save(&config, broken);
    assert!(eventually(Duration::from_secs(30), || emulator.config_reloads().rejected == 1).await);
    let error = emulator.config_reloads().last_error.unwrap();
    assert!(error.contains("serverless.yml:") && error.contains("MissingQueue"), "located error: {error}");
    assert_eq!(get(&emulator, "/hello").await.1["greeting"], json!("two"), "the running config stays");
    assert_eq!(get(&emulator, "/added").await.0, 200);

    // Removed: the route, the functions, the queue and its mapping.
    save(&config, live_service("four", "", ""));
    assert!(wait_for_status(&emulator, "/added", 404).await, "the removed route is gone");
    assert_eq!(get(&emulator, "/hello").await.1["greeting"], json!("four"));
    let gone = sqs.get_queue_url().queue_name("live-jobs").send().await;
    assert!(gone.is_err(), "the removed queue is deleted");
    let functions: Vec<String> = emulator.lambda().functions().into_iter().map(|f| f.key).collect();
    assert_eq!(functions, ["hello"]);
    let reloads = emulator.config_reloads();
    assert_eq!((reloads.applied, reloads.rejected, reloads.last_error), (2, 1, None));
    assert_eq!(emulator.reloads(), (0, 0), "editing serverless.yml rebuilds no handler");
    emulator.stop().await;
}
