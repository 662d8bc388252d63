//! Shared set-up for the end-to-end tests: an emulator started in-process on port 0 from a fixture
//! `serverless.yml` (so tests run side by side), and real AWS clients pointed at it.

use ftb_offline::lambda::build::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").to_path_buf()
}

/// The test-only functions in `tests/fixtures/serverless.yml`.
pub fn fixtures_config() -> PathBuf {
    repo_root().join("tests/fixtures/serverless.yml")
}

/// Options for an emulator of the fixture functions on free ports, building them with cargo first.
pub fn fixture_options() -> EmulatorOptions {
    let mut options = EmulatorOptions::new(fixtures_config());
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.lambda_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options
}

pub async fn start_fixtures() -> Emulator {
    start(fixture_options()).await
}

pub async fn start(options: EmulatorOptions) -> Emulator {
    Emulator::start(options).await.unwrap_or_else(|err| panic!("the emulator did not start: {err}"))
}

/// A stock client of one AWS SDK crate for `endpoint`, with dummy credentials (the config types differ per crate).
macro_rules! stock_client {
    ($sdk:ident, $endpoint:expr) => {{
        use $sdk::config::{BehaviorVersion, Credentials, Region};
        let config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-north-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "ftb-offline-tests"))
            .endpoint_url($endpoint)
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// `aws-sdk-lambda` for this emulator's Lambda API.
pub fn lambda_client(emulator: &Emulator) -> aws_sdk_lambda::Client {
    stock_client!(aws_sdk_lambda, emulator.endpoints().lambda_url())
}

/// `aws-sdk-sqs` for this emulator's SQS API.
pub fn sqs_client(emulator: &Emulator) -> aws_sdk_sqs::Client {
    stock_client!(aws_sdk_sqs, emulator.endpoints().lambda_url())
}

/// `aws-sdk-apigatewaymanagement` for `endpoint` (`http://127.0.0.1:PORT/dev`).
pub fn management_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    stock_client!(aws_sdk_apigatewaymanagement, endpoint)
}

/// Polls `condition` every 20 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// The AWS CLI, which the test command installs. Missing, the test fails with what to do. Async, so the
/// emulator in the same test keeps serving while the CLI waits for it.
pub fn aws_cli() -> tokio::process::Command {
    let found = std::process::Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "the AWS CLI is not installed: run the README's test command (scripts/test), which installs it");
    let mut command = tokio::process::Command::new("aws");
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "eu-north-1")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE");
    command
}

/// Options for an emulator of `tests/fixtures/http.yml` on free ports.
pub fn http_options() -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/http.yml");
    options
}

/// An AWS sample event shipped with `aws_lambda_events` (the fixtures it tests itself against).
pub fn aws_sample_event(name: &str) -> serde_json::Value {
    let path = sample_events_dir().join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn sample_events_dir() -> PathBuf {
    let registry = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let sources = registry.join("registry/src");
    std::fs::read_dir(&sources)
        .expect("the cargo registry sources")
        .flatten()
        .flat_map(|index| std::fs::read_dir(index.path()).into_iter().flatten().flatten())
        .filter(|krate| krate.file_name().to_string_lossy().starts_with("aws_lambda_events-1."))
        .map(|krate| krate.path().join("src/fixtures"))
        .find(|fixtures| fixtures.is_dir())
        .expect("aws_lambda_events' fixtures in the cargo registry")
}

/// Options for an emulator of `tests/fixtures/ws.yml` whose handler records events in `events_dir`.
pub fn ws_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/ws.yml");
    options.load.params.insert("eventsDir".into(), events_dir.display().to_string());
    options
}

/// The events the WebSocket fixture recorded so far.
pub fn recorded_events(events_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(events_dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect()
}

/// Options for an emulator of `tests/fixtures/sqs.yml` whose consumers record what they see in `events_dir`.
pub fn sqs_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/sqs.yml");
    options.load.params.insert("eventsDir".into(), events_dir.display().to_string());
    options
}

/// What the SQS fixture recorded: one entry per record it received.
pub fn recorded_records(events_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(events_dir.join("sqs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record per line"))
        .collect()
}
