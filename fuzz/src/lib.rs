//! The bodies of the fuzz targets, one function per target taking the fuzzer's bytes. They must never panic or
//! hang on any input; an error answer is fine. `libfuzzer/` wraps each in `fuzz_target!` for `cargo fuzz`, and
//! `tests/corpus.rs` replays the checked-in corpus through them in every test run.
//!
//! - [`config`]: the `serverless.yml` loader (YAML, variables, intrinsics).
//! - [`sqs_json`], [`sqs_query`]: both SQS wire protocols, parsed and run against real queues.
//! - [`sns_query`]: the SNS query protocol, parsed and run against real topics with filter policies.
//! - [`lambda_port`], [`http_port`], [`s3_port`]: raw bytes to a running emulator's Lambda API (Invoke, SQS,
//!   SNS), HTTP API (routing and the request → event path) and S3 API (guard, CORS, s3s), over loopback.

use ftb_offline::config::{self, LoadOptions};
use ftb_offline::sqs::Sqs;
use ftb_offline::sqs::{json_protocol, query_protocol, requests};
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The fuzz service: functions whose binary does not exist (invocations fail fast, without processes), behind
/// REST and HTTP API routes, and a queue.
pub fn service_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("serverless.yml")
}

/// `serverless.yml` text through the loader; environment variables read as unset.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = LoadOptions { env: Arc::new(|_| None), ..LoadOptions::default() };
    let _ = config::load_str(text, &service_file(), &options);
}

/// `Operation\nJSON body`: parsed as the SQS JSON protocol, then run against a queue set holding `fuzz`.
pub fn sqs_json(data: &[u8]) {
    let (operation, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => (String::new(), data),
    };
    if let Ok(request) = json_protocol::parse(&operation, body) {
        run_sqs(request);
    }
}

/// A query-protocol form body (`Action=SendMessage&QueueUrl=…`), parsed and run likewise.
pub fn sqs_query(data: &[u8]) {
    let params = query_protocol::Params::parse(None, data);
    if let Ok(request) = query_protocol::parse(&params, None) {
        run_sqs(request);
    }
}

fn run_sqs(request: requests::Request) {
    let request = match request {
        // Long polls would make the fuzzer wait, not find bugs.
        requests::Request::ReceiveMessage {
            queue_url,
            max,
            visibility,
            attribute_names,
            message_attribute_names,
            ..
        } => requests::Request::ReceiveMessage {
            queue_url,
            max,
            visibility,
            wait: Some(0),
            attribute_names,
            message_attribute_names,
        },
        other => other,
    };
    runtime().block_on(async {
        let sqs = Sqs::new("eu-north-1", "http://127.0.0.1:4002");
        let caller = sqs.home().clone();
        let _ = sqs.create_queue(&caller, "fuzz", &Default::default(), &Default::default());
        let _ = requests::execute(&sqs, &caller, request).await;
    });
}

/// A query-protocol form body for SNS (`Action=Publish&TopicArn=…`), parsed and run against a topic `fuzz` with a
/// filtered subscription (nothing is delivered: the topics are the model's alone).
pub fn sns_query(data: &[u8]) {
    use ftb_offline::sns::{delivery::Deliveries, query_protocol as sns_query, requests as sns_requests, Sns};
    let form = ftb_offline::aws::query::Form::parse(None, data);
    let Ok(request) = sns_query::parse(&form) else { return };
    let sns = Sns::new("eu-north-1", Deliveries::nowhere("eu-north-1"));
    let caller = sns.home().clone();
    if let Ok(topic) = sns.create_topic(&caller, "fuzz", &Default::default(), &Default::default()) {
        let filter =
            [("FilterPolicy".to_string(), r#"{"kind":["a",{"prefix":"b"}],"n":[{"numeric":[">",1]}]}"#.to_string())];
        let _ =
            sns.subscribe(&topic.arn, "sqs", "arn:aws:sqs:eu-north-1:000000000000:fuzz", &filter.into_iter().collect());
    }
    let _ = sns_requests::execute(&sns, &caller, request);
}

/// Raw bytes to the S3 port of a running emulator.
pub fn s3_port(data: &[u8]) {
    let port = emulator().endpoints().s3_port;
    exchange(port, data);
}

/// Raw bytes to the Lambda port (Invoke API, SQS and SNS) of a running emulator.
pub fn lambda_port(data: &[u8]) {
    let port = emulator().endpoints().lambda_port;
    exchange(port, data);
}

/// Raw bytes to the HTTP API port of a running emulator.
pub fn http_port(data: &[u8]) {
    let port = emulator().endpoints().http_port;
    exchange(port, data);
}

/// Sends `data`, half-closes, reads whatever comes back. Panics if the emulator neither answers nor closes
/// within 10 s: a hang is a finding.
fn exchange(port: u16, data: &[u8]) {
    runtime().block_on(async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("the emulator listens");
        let _ = stream.write_all(data).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "no answer and no close within 10 s for {} bytes of input", data.len());
    });
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// One emulator per fuzzing process, on free loopback ports, started on first use.
fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let mut options = EmulatorOptions::new(service_file());
        (options.http_port, options.websocket_port, options.lambda_port, options.s3_port) =
            (Some(0), Some(0), Some(0), Some(0));
        options.build = ftb_offline::lambda::runtimes::cargo::BuildMode::NoBuild { release: false };
        runtime().block_on(Emulator::start(options)).expect("the fuzz service starts")
    })
}
