//! Emulators of the fixture services (`tests/fixtures/*.yml`) started in-process on free ports, AWS's sample
//! events, and the files the recording fixture handlers write (`fixture-ws`, `fixture-sqs`).

use crate::repo_root;
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};

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
    options.s3_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options
}

pub async fn start_fixtures() -> Emulator {
    start(fixture_options()).await
}

pub async fn start(options: EmulatorOptions) -> Emulator {
    Emulator::start(options).await.unwrap_or_else(|err| panic!("the emulator did not start: {err}"))
}

/// Options for an emulator of `tests/fixtures/<file>` on free ports.
fn fixture_file_options(file: &str) -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures").join(file);
    options
}

/// Options for an emulator of `tests/fixtures/<file>` whose handlers record what they receive in `events_dir`
/// (its `${param:eventsDir}`).
fn recording_options(file: &str, events_dir: &Path) -> EmulatorOptions {
    let mut options = fixture_file_options(file);
    options.load.params.insert("eventsDir".into(), events_dir.display().to_string());
    options
}

/// Options for an emulator of `tests/fixtures/http.yml` on free ports.
pub fn http_options() -> EmulatorOptions {
    fixture_file_options("http.yml")
}

/// Options for an emulator of `tests/fixtures/urls.yml` (function URLs) on free ports.
pub fn urls_options() -> EmulatorOptions {
    fixture_file_options("urls.yml")
}

/// Options for an emulator of `tests/fixtures/ws.yml` whose handler records events in `events_dir`.
pub fn ws_options(events_dir: &Path) -> EmulatorOptions {
    recording_options("ws.yml", events_dir)
}

/// Options for an emulator of `tests/fixtures/sqs.yml` whose consumers record what they see in `events_dir`.
pub fn sqs_options(events_dir: &Path) -> EmulatorOptions {
    recording_options("sqs.yml", events_dir)
}

/// Options for an emulator of `tests/fixtures/auth.yml` (authorizers and API keys) whose handlers record what
/// reaches them in `events_dir`, its JWT authorizer trusting `issuer`.
pub fn auth_options(events_dir: &Path, issuer: &str) -> EmulatorOptions {
    let mut options = recording_options("auth.yml", events_dir);
    options.load.params.insert("issuer".into(), issuer.to_string());
    options
}

/// Options for an emulator of `tests/fixtures/triggers/sns.yml` (topics, queues, Node.js subscribers recording
/// what they get in `events_dir`).
pub fn sns_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = recording_options("triggers/sns.yml", events_dir);
    options.build = BuildMode::NoBuild { release: false };
    options
}

/// Options for an emulator of `tests/fixtures/triggers/s3.yml` (buckets, Node.js functions recording their S3
/// events in `events_dir`), S3 on a free port.
pub fn s3_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = recording_options("triggers/s3.yml", events_dir);
    options.build = BuildMode::NoBuild { release: false };
    options.s3_port = Some(0);
    options
}

/// Options for an emulator of `tests/fixtures/extensions.yml` (Python functions with an external extension from a
/// layer, which records its events in `events_dir`).
pub fn extensions_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = recording_options("extensions.yml", events_dir);
    options.build = BuildMode::NoBuild { release: false };
    options
}

/// Options for an emulator of `tests/fixtures/queues.yml` (queues only, nothing to build) on free ports.
pub fn queues_options() -> EmulatorOptions {
    let mut options = fixture_file_options("queues.yml");
    options.build = BuildMode::NoBuild { release: false };
    options
}

/// The JSON lines a recording fixture handler wrote to `events_dir/<file>` so far: complete lines only, since the
/// handler may be writing the next one.
pub fn recorded_lines(events_dir: &Path, file: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(events_dir.join(file)).unwrap_or_default();
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    complete.lines().map(|line| serde_json::from_str(line).expect("one JSON value per line")).collect()
}

/// The lines a recording function wrote to `events_dir/<function>.jsonl`, waiting (up to 20 s) until there are
/// `count`: an asynchronous invocation (SNS, S3) runs after the call that caused it has returned.
pub async fn invocations(events_dir: &Path, function: &str, count: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let lines = recorded_lines(events_dir, &format!("{function}.jsonl"));
        if lines.len() >= count {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{function} was invoked {} times, not {count}: {lines:#?}",
            lines.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The events the WebSocket fixture recorded so far.
pub fn recorded_events(events_dir: &Path) -> Vec<serde_json::Value> {
    recorded_lines(events_dir, "events.jsonl")
}

/// What the SQS fixture recorded: one entry per record it received.
pub fn recorded_records(events_dir: &Path) -> Vec<serde_json::Value> {
    recorded_lines(events_dir, "sqs.jsonl")
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
