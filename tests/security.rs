//! Security: every listener is on 127.0.0.1 unless `--host` says otherwise (and then the log warns), values from
//! `serverless.yml` never go through a shell, and the emulator writes nothing outside the project (and its
//! target folder): not in HOME, not in the temporary folder.

use aws_sdk_lambda::primitives::Blob;
use ftb_offline_tests::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The local addresses of the TCP sockets listening on `port` (IPv4 and IPv6), read from /proc/net.
fn listening_addresses(port: u16) -> Vec<String> {
    let mut addresses = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            let (Some(local), Some(&"0A")) = (fields.get(1), fields.get(3)) else { continue };
            let Some((ip, hex_port)) = local.split_once(':') else { continue };
            if u16::from_str_radix(hex_port, 16).ok() == Some(port) {
                addresses.push(ip.to_string());
            }
        }
    }
    addresses
}

/// 127.0.0.1 as /proc/net/tcp writes it (little-endian hex).
const LOOPBACK_V4: &str = "0100007F";

#[tokio::test]
async fn every_listener_is_on_loopback_by_default() {
    let emulator = start_fixtures().await;
    let endpoints = emulator.endpoints().clone();
    let output = lambda_client(&emulator).invoke().function_name("echo").send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    let runtime_api = body["env"]["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap().to_string();
    let runtime_port: u16 = runtime_api.rsplit(':').next().unwrap().parse().unwrap();
    for (what, port) in [
        ("HTTP API", endpoints.http_port),
        ("WebSocket API", endpoints.websocket_port),
        ("Lambda and SQS APIs", endpoints.lambda_port),
        ("a handler's Runtime API", runtime_port),
    ] {
        let addresses = listening_addresses(port);
        assert!(!addresses.is_empty(), "{what} on port {port} is listening");
        assert!(addresses.iter().all(|a| a == LOOPBACK_V4), "{what} listens on {addresses:?}, not only 127.0.0.1");
    }
}

/// A service of queues only, so the emulator runs as its own process from a temporary project folder.
const QUEUES_ONLY: &str = "service: guarded\nprovider: { name: aws, runtime: provided.al2023 }\nresources:\n  Resources:\n    Work:\n      Type: AWS::SQS::Queue\n      Properties: { QueueName: work }\n";

#[tokio::test]
async fn another_host_is_used_only_when_asked_and_then_the_log_warns() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("serverless.yml"), QUEUES_ONLY).unwrap();
    let mut args = vec!["--host", "0.0.0.0", "start", "--no-build"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(project.path(), &args, &[]);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    assert!(
        process
            .log
            .iter()
            .any(|line| line.contains("WARN") && line.contains("other machines on the network can reach")),
        "{:?}",
        process.log
    );
    let port: u16 = ready.address("HTTP API on ").rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(listening_addresses(port), ["00000000"], "bound where --host said");
}

#[tokio::test]
async fn values_from_serverless_yml_never_go_through_a_shell() {
    let marker = Path::new("/tmp/ftb-offline-shell-marker");
    let _ = std::fs::remove_file(marker);
    let emulator = start_fixtures().await;
    let payload = Blob::new(json!({"probe": "$(touch /tmp/ftb-offline-shell-marker)"}).to_string());
    let output = lambda_client(&emulator).invoke().function_name("shellish").payload(payload).send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(
        body["env"]["SHELLISH"],
        "$(touch /tmp/ftb-offline-shell-marker); touch /tmp/ftb-offline-shell-marker `touch /tmp/ftb-offline-shell-marker` | cat",
        "the value arrives exactly as written"
    );
    assert_eq!(body["event"]["probe"], "$(touch /tmp/ftb-offline-shell-marker)");
    assert!(!marker.exists(), "nothing ran the value as a command");
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn nothing_is_written_outside_the_project() {
    let (project, home, tmp) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(project.path().join("serverless.yml"), QUEUES_ONLY).unwrap();
    let env = [("HOME", home.path().to_str().unwrap()), ("TMPDIR", tmp.path().to_str().unwrap())];
    let mut args = vec!["start", "--no-build", "--persist"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(project.path(), &args, &env);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    let sqs = sqs_client_at(&ready.address("Lambda and SQS APIs on "));
    let queue = sqs.get_queue_url().queue_name("work").send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&queue).message_body("kept").send().await.unwrap();
    assert!(process.interrupt().success());
    assert_eq!(files_under(home.path()), Vec::<String>::new(), "nothing in HOME");
    assert_eq!(files_under(tmp.path()), Vec::<String>::new(), "nothing in the temporary folder");
    assert_eq!(files_under(project.path()), [".ftb-offline/dev/sqs.json", "serverless.yml"], "only its own state");
}
