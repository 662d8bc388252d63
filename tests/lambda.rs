//! The Lambda core end to end: real handler binaries built with `lambda_runtime`, invoked through the stock
//! `aws-sdk-lambda` client and the AWS CLI, against an emulator started in-process on free ports.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine;
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use ftb_offline_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn invoke_returns_the_result_with_the_environment_lambda_gives() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let output = client.invoke().function_name("echo").payload(Blob::new(r#"{"hello":"world"}"#)).send().await.unwrap();
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.executed_version(), Some("$LATEST"));
    assert_eq!(output.function_error(), None);
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["event"], json!({"hello": "world"}));
    assert_eq!(body["invokedFunctionArn"], "arn:aws:lambda:eu-north-1:000000000000:function:ftb-fixtures-dev-echo");
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let deadline = body["deadlineMs"].as_u64().unwrap();
    assert!(
        deadline > now_ms && deadline <= now_ms + 6_000,
        "deadline {deadline} is the default 6 s timeout from now ({now_ms})"
    );
    let env = &body["env"];
    let lambda_url = emulator.endpoints().lambda_url();
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "ftb-fixtures-dev-echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/ftb-fixtures-dev-echo");
    assert_eq!(env["AWS_REGION"], "eu-north-1");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["AWS_ENDPOINT_URL_SQS"], lambda_url.as_str());
    assert_eq!(env["AWS_ENDPOINT_URL_LAMBDA"], lambda_url.as_str());
    assert_eq!(env["AWS_ENDPOINT_URL_SNS"], lambda_url.as_str());
    assert_eq!(env["AWS_ENDPOINT_URL_S3"], emulator.endpoints().s3_url().as_str());
    assert_eq!(env["FROM_PROVIDER"], "provider-value");
    assert_eq!(env["FROM_FUNCTION"], "dev-function-value");
    assert_eq!(env["QUEUE_URL"], format!("{lambda_url}/000000000000/work-dev"), "Ref resolves with the bound port");
    assert!(env.get("HOME").is_none(), "nothing of the emulator's own environment leaks in but PATH");
    emulator.stop().await;
}

#[tokio::test]
async fn functions_are_found_by_key_deployed_name_and_arn() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    for name in
        ["echo", "ftb-fixtures-dev-echo", "arn:aws:lambda:eu-north-1:000000000000:function:ftb-fixtures-dev-echo"]
    {
        let (body, error) = invoke_json(&client, name, json!({"n": name})).await;
        assert_eq!((body["event"]["n"].as_str(), error), (Some(name), None));
    }
    let output = client.invoke().function_name("echo").qualifier("$LATEST").send().await.unwrap();
    assert_eq!(output.status_code(), 200);
}

#[tokio::test]
async fn concurrent_invocations_run_in_several_processes_and_warm_ones_are_reused() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let calls = (0..8).map(|_| {
        let client = client.clone();
        async move { invoke_json(&client, "sleep", json!({"ms": 400})).await }
    });
    let results = futures_join_all(calls).await;
    let pids: BTreeSet<u64> = results
        .iter()
        .map(|(body, error)| {
            assert_eq!(*error, None);
            body["pid"].as_u64().unwrap()
        })
        .collect();
    assert!(pids.len() >= 4, "8 overlapping invocations ran in only {} processes", pids.len());
    let (after, _) = invoke_json(&client, "sleep", json!({"ms": 0})).await;
    assert!(pids.contains(&after["pid"].as_u64().unwrap()), "a later invocation reuses a warm process");
}

#[tokio::test]
async fn an_invocation_whose_client_goes_away_runs_to_its_end_and_its_process_stays_warm() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let (warm, _) = invoke_json(&client, "sleep", json!({"ms": 0})).await;
    let lambda_url = emulator.endpoints().lambda_url();
    let address = lambda_url.trim_start_matches("http://");
    let path = "/2015-03-31/functions/sleep/invocations";
    let request = format!("POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 10\r\n\r\n{{\"ms\":600}}");
    send_then_reset(address, request.as_bytes(), Duration::from_millis(150)).await;
    // Lambda runs an invocation to its end whoever waits for it; the process then serves the next one.
    let pool = emulator.lambda().find("sleep").unwrap();
    let back = eventually(Duration::from_secs(10), || pool.busy_processes() == 0 && pool.idle_workers() == 1).await;
    assert!(back, "the abandoned invocation ended and its process is warm again");
    let (next, error) = invoke_json(&client, "sleep", json!({"ms": 0})).await;
    assert_eq!(error, None);
    assert_eq!(next["pid"], warm["pid"], "the process of the abandoned invocation was kept");
    emulator.stop().await;
}

#[tokio::test]
async fn reserved_concurrency_caps_the_processes_of_a_function() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let calls = (0..3).map(|_| {
        let client = client.clone();
        async move { invoke_json(&client, "capped", json!({"ms": 100})).await }
    });
    let pids: BTreeSet<u64> = futures_join_all(calls).await.iter().map(|(b, _)| b["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 1, "reservedConcurrency: 1 means one process, invocations queue for it");
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_fails_with_lambdas_message() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let (warm, _) = invoke_json(&client, "sleep", json!({"ms": 0})).await;
    let (body, error) = invoke_json(&client, "sleep", json!({"ms": 5000})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(body["errorMessage"].as_str().unwrap().ends_with("Task timed out after 1.00 seconds"), "{body}");
    let pid = warm["pid"].as_u64().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || !std::path::Path::new(&format!("/proc/{pid}")).exists()).await,
        "the timed-out process {pid} was killed"
    );
    let (next, error) = invoke_json(&client, "sleep", json!({"ms": 0})).await;
    assert_eq!(error, None);
    assert_ne!(next["pid"], warm["pid"], "a new process replaces the killed one");
}

#[tokio::test]
async fn a_panic_or_handler_error_fails_the_invocation_and_the_process_lives_on() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let (ok, _) = invoke_json(&client, "crash", json!({})).await;
    let (body, error) = invoke_json(&client, "crash", json!({"mode": "panic"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert!(body["errorMessage"].as_str().unwrap().contains("fixture panic on purpose"), "{body}");
    let (body, error) = invoke_json(&client, "crash", json!({"mode": "error"})).await;
    assert_eq!(
        (error.as_deref(), body["errorMessage"].as_str()),
        (Some("Unhandled"), Some("fixture error on purpose"))
    );
    let (after, _) = invoke_json(&client, "crash", json!({})).await;
    assert_eq!(after["pid"], ok["pid"], "lambda_runtime survives a panic, so the process is reused");
}

#[tokio::test]
async fn a_process_that_dies_mid_invocation_fails_it_with_runtime_exit_error_and_is_replaced() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let (body, error) = invoke_json(&client, "crash", json!({"mode": "kill"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Runtime.ExitError");
    assert!(body["errorMessage"].as_str().unwrap().ends_with("Runtime exited with error: signal: killed"), "{body}");
    let (body, _) = invoke_json(&client, "crash", json!({"mode": "exit", "code": 3})).await;
    assert!(body["errorMessage"].as_str().unwrap().ends_with("Runtime exited with error: exit status 3"), "{body}");
    let (body, error) = invoke_json(&client, "crash", json!({})).await;
    assert_eq!((error, body["ok"].as_bool()), (None, Some(true)));
}

#[tokio::test]
async fn an_init_crash_is_a_runtime_exit_error_after_lambdas_second_init() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let output = client.invoke().function_name("initFail").log_type(LogType::Tail).send().await.unwrap();
    assert_eq!(output.function_error(), Some("Unhandled"));
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "Runtime.ExitError", "a process that ends during init, as Lambda reports it");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("RequestId: ") && message.ends_with("Error: Runtime exited with error: exit status 1"),
        "{message}"
    );
    let log = base64::engine::general_purpose::STANDARD.decode(output.log_result().unwrap()).unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(log.starts_with("INIT_START Runtime Version: provided:al2023.local\t"), "{log}");
    assert_eq!(
        log.matches("fixture init: REQUIRED_SETTING is not set").count(),
        2,
        "init runs twice, as on Lambda: {log}"
    );
    assert!(
        log.contains("INIT_REPORT Init Duration: ")
            && log.contains("\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"),
        "{log}"
    );
    assert!(log.contains("\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError"), "{log}");
    let report = log.lines().find(|l| l.starts_with("REPORT ")).unwrap();
    assert!(!report.contains("Max Memory Used: - MB"), "every REPORT has its memory figure: {report}");
}

#[tokio::test]
async fn event_invocations_run_in_the_background_and_dry_runs_do_not_run() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let output = client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(json!({"writeFile": marker}).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(output.status_code(), 202);
    assert!(eventually(Duration::from_secs(5), || marker.exists()).await, "the Event invocation ran");
    let dry = dir.path().join("dry");
    let output = client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .payload(Blob::new(json!({"writeFile": dry}).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(output.status_code(), 204);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!dry.exists(), "a DryRun validates and does not invoke");
}

#[tokio::test]
async fn failed_event_invocations_are_retried_twice_with_growing_delays_unless_the_function_says_otherwise() {
    let mut options = fixture_options();
    options.async_retry_delay = Some(Duration::from_millis(300));
    let emulator = start(options).await;
    let client = lambda_client(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let attempts = |name: &str| -> Vec<String> {
        std::fs::read_to_string(dir.path().join(name)).unwrap_or_default().lines().map(String::from).collect()
    };
    let invoke_failing = |function: &'static str, file: &'static str| {
        let payload = json!({"appendFile": dir.path().join(file), "fail": true}).to_string();
        client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
    };
    let sent = std::time::Instant::now();
    let output = invoke_failing("echo", "retried").await.unwrap();
    assert_eq!(output.status_code(), 202);
    invoke_failing("echoOnce", "once").await.unwrap();

    assert!(eventually(Duration::from_secs(10), || !attempts("retried").is_empty()).await, "the first attempt ran");
    assert!(eventually(Duration::from_secs(10), || attempts("retried").len() == 3).await, "two retries followed");
    // 300 ms, then 600 ms: the third attempt cannot come sooner than 900 ms after the first.
    assert!(sent.elapsed() >= Duration::from_millis(900), "retries waited: {:?}", sent.elapsed());
    let retried = attempts("retried");
    assert!(retried.iter().all(|id| *id == retried[0]), "every attempt has the request id: {retried:?}");
    assert!(eventually(Duration::from_secs(10), || !attempts("once").is_empty()).await, "echoOnce ran");
    // Longer than the next retry's delay would be: nothing more comes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(attempts("retried").len(), 3, "no fourth attempt");
    assert_eq!(attempts("once").len(), 1, "maximumRetryAttempts: 0 means one attempt");
}

#[tokio::test]
async fn tail_logs_carry_start_the_handlers_lines_end_and_report() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let output =
        client.invoke().function_name("echo").log_type(LogType::Tail).payload(Blob::new("{}")).send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    let id = body["requestId"].as_str().unwrap();
    let log =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(output.log_result().unwrap()).unwrap())
            .unwrap();
    assert!(log.contains(&format!("START RequestId: {id} Version: $LATEST")), "{log}");
    assert!(log.contains(&format!("echo handling {id}")), "{log}");
    assert!(log.contains(&format!("END RequestId: {id}")), "{log}");
    let report = log.lines().find(|l| l.starts_with("REPORT")).expect("a REPORT line");
    for field in ["Duration: ", "Billed Duration: ", "Memory Size: 256 MB", "Max Memory Used: ", "Init Duration: "] {
        assert!(report.contains(field), "{field} missing from {report}");
    }
    // The cold start's figure is the initialized process's peak, not a reading taken while it was still starting
    // (about 1 MB); a lambda_runtime handler holds several.
    let used: u64 =
        report.split("Max Memory Used: ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap().parse().unwrap();
    assert!(used >= 2, "Max Memory Used of a cold start: {report}");
}

#[tokio::test]
async fn client_context_reaches_the_handler() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let context = json!({"custom": {"tenant": "t1"}});
    let encoded = base64::engine::general_purpose::STANDARD.encode(context.to_string());
    let output = client.invoke().function_name("echo").client_context(encoded).send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["clientContext"], json!({"tenant": "t1"}));
}

#[tokio::test]
async fn aws_shaped_errors_for_unknown_functions_bad_payloads_and_oversize_requests() {
    let emulator = start_fixtures().await;
    let client = lambda_client(&emulator);
    let err = client.invoke().function_name("missing").send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert!(err.to_string().contains("Function not found"), "{err}");
    let err = client
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{not json"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_content_exception(), "{err:?}");
    let big = format!("\"{}\"", "x".repeat(6 * 1024 * 1024 + 1));
    let err =
        client.invoke().function_name("echo").payload(Blob::new(big)).send().await.unwrap_err().into_service_error();
    assert!(err.is_request_too_large_exception(), "{err:?}");
    let (body, error) = invoke_json(&client, "ghost", json!({})).await;
    assert_eq!((body["errorType"].as_str(), error.as_deref()), (Some("Runtime.InvalidEntrypoint"), Some("Unhandled")));
    assert!(body["errorMessage"].as_str().unwrap().contains("`fixture-ghost`, which no package"), "{body}");
    let (body, error) = invoke_json(&client, "echo", json!({"still": "serving"})).await;
    assert_eq!((body["event"]["still"].as_str(), error), (Some("serving"), None));
}

#[tokio::test]
async fn idle_processes_are_stopped_and_stop_ends_every_process() {
    let mut options = fixture_options();
    options.idle_timeout = Some(Duration::from_millis(300));
    let emulator = start(options).await;
    let client = lambda_client(&emulator);
    let (body, _) = invoke_json(&client, "echo", json!({})).await;
    let pid = body["pid"].as_u64().unwrap();
    let pool = emulator.lambda().find("echo").unwrap().clone();
    assert_eq!(pool.idle_workers(), 1);
    assert!(eventually(Duration::from_secs(3), || pool.idle_workers() == 0).await, "the idle process was stopped");
    assert!(eventually(Duration::from_secs(2), || !std::path::Path::new(&format!("/proc/{pid}")).exists()).await);
    let (body, _) = invoke_json(&client, "echo", json!({})).await;
    let pid = body["pid"].as_u64().unwrap();
    emulator.stop().await;
    assert!(
        eventually(Duration::from_secs(2), || !std::path::Path::new(&format!("/proc/{pid}")).exists()).await,
        "stop ends handler processes"
    );
}

#[tokio::test]
async fn without_build_a_missing_binary_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serverless.yml");
    std::fs::write(&config, "service: s\nprovider: { name: aws }\nfunctions:\n  f:\n    handler: bootstrap\n    package: { artifact: target/lambda/no-such-binary/bootstrap.zip }\n").unwrap();
    let mut options = ftb_offline::EmulatorOptions::new(&config);
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options.build = BuildMode::Build { release: false };
    let err = ftb_offline::Emulator::start(options).await.err().expect("no workspace, no binary");
    assert!(err.to_string().contains("cargo workspace"), "{err}");
}

#[tokio::test]
async fn the_aws_cli_invokes_and_reads_tail_logs() {
    let emulator = start_fixtures().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let output = aws_cli()
        .args(["lambda", "invoke", "--endpoint-url", &emulator.endpoints().lambda_url(), "--function-name", "echo"])
        .args(["--payload", r#"{"from":"cli"}"#, "--log-type", "Tail"])
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "aws lambda invoke failed: {}", String::from_utf8_lossy(&output.stderr));
    let meta: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(meta["StatusCode"], 200);
    let log = String::from_utf8(
        base64::engine::general_purpose::STANDARD.decode(meta["LogResult"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(log.contains("REPORT RequestId"), "{log}");
    let body: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(body["event"]["from"], "cli");
    let output = aws_cli()
        .args(["lambda", "invoke", "--endpoint-url", &emulator.endpoints().lambda_url(), "--function-name", "crash"])
        .args(["--payload", r#"{"mode":"error"}"#])
        .arg(&out)
        .output()
        .await
        .unwrap();
    let meta: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(meta["FunctionError"], "Unhandled");
    let output = aws_cli()
        .args(["lambda", "invoke", "--endpoint-url", &emulator.endpoints().lambda_url(), "--function-name", "nope"])
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("ResourceNotFoundException"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs futures concurrently on this task (no extra crate for join_all).
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn staged_binaries_left_by_a_killed_emulator_are_removed_by_the_next() {
    let workspace =
        ftb_offline::lambda::runtimes::cargo::Workspace::discover(&repo_root().join("tests/fixtures")).unwrap();
    let staging = workspace.target_dir.join("ftb-offline");
    // An emulator killed with -9: its folder names a pid that no longer exists.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let abandoned = staging.join(format!("killed{dead_pid}"));
    std::fs::create_dir_all(abandoned.join("fixture-echo/0")).unwrap();
    std::fs::write(abandoned.join("owner.pid"), dead_pid.to_string()).unwrap();
    std::fs::write(abandoned.join("fixture-echo/0/fixture-echo"), b"an old copy").unwrap();
    // A live emulator's folder (this test process's pid) is left alone.
    let alive = staging.join(format!("alive{}", std::process::id()));
    std::fs::create_dir_all(&alive).unwrap();
    std::fs::write(alive.join("owner.pid"), std::process::id().to_string()).unwrap();

    let emulator = start_fixtures().await;
    assert!(!abandoned.exists(), "the killed emulator's copies are removed");
    assert!(alive.exists(), "a running emulator's copies stay");
    std::fs::remove_dir_all(&alive).unwrap();
    drop(emulator);
}

#[tokio::test]
async fn invoke_with_response_stream_passes_payload_chunks_as_the_function_writes_them() {
    use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
    let emulator = start(urls_options()).await;
    let client = lambda_client(&emulator);
    let output = client
        .invoke_with_response_stream()
        .function_name("stream")
        .log_type(LogType::Tail)
        .payload(Blob::new(json!({"delayMs": 600}).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(output.executed_version(), Some("$LATEST"));
    let mut events = output.event_stream;
    let begun = std::time::Instant::now();
    let (mut body, mut arrivals, mut complete) = (Vec::new(), Vec::new(), None);
    while let Some(event) = events.recv().await.unwrap() {
        match event {
            Event::PayloadChunk(chunk) => {
                let bytes = chunk.payload().unwrap().as_ref().to_vec();
                arrivals.push((String::from_utf8_lossy(&bytes).into_owned(), begun.elapsed()));
                body.extend(bytes);
            }
            Event::InvokeComplete(done) => complete = Some(done),
            other => panic!("unexpected event {other:?}"),
        }
    }
    let complete = complete.expect("an InvokeComplete ends the stream");
    assert_eq!(complete.error_code(), None, "{complete:?}");
    assert!(complete.log_result().is_some_and(|log| !log.is_empty()), "LogResult with LogType Tail");
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.ends_with("one,two,three") && text.contains("\"statusCode\":201"),
        "the function's own bytes, prelude and all: {text:?}"
    );
    let arrival = |part: &str| arrivals.iter().find(|(text, _)| text.contains(part)).map(|(_, at)| *at).unwrap();
    assert!(arrival("two,") - arrival("one,") >= Duration::from_millis(500), "chunks as written: {arrivals:?}");

    // (A failure mid-stream ends in InvokeComplete's ErrorCode: tests/runtimes.rs shows it with Node.js, whose
    // runtime reports it in trailers; lambda_runtime 1.5 writes its report into the body instead.)

    // A function that does not stream answers in one chunk.
    let plain = client.invoke_with_response_stream().function_name("echo").payload(Blob::new("{}")).send().await;
    let mut events = plain.unwrap().event_stream;
    let mut chunks = 0;
    while let Some(event) = events.recv().await.unwrap() {
        chunks += matches!(event, Event::PayloadChunk(_)) as usize;
    }
    assert_eq!(chunks, 1);
}

#[tokio::test]
async fn an_internal_extension_gets_each_invoke_and_one_lambda_refuses_fails_init() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = fixture_options();
    options.load.params.insert("eventsDir".into(), dir.path().display().to_string());
    let emulator = start(options).await;
    let client = lambda_client(&emulator);
    let mut handled = Vec::new();
    for _ in 0..2 {
        let (body, error) = invoke_json(&client, "extended", json!({})).await;
        assert_eq!(error, None, "{body}");
        handled.push(body["handled"].as_str().unwrap().to_string());
    }
    let recorded = eventually(Duration::from_secs(5), || {
        std::fs::read_to_string(dir.path().join("extension.jsonl")).unwrap_or_default().lines().count() == 2
    });
    assert!(recorded.await, "the extension got both INVOKE events");
    let lines = std::fs::read_to_string(dir.path().join("extension.jsonl")).unwrap();
    let events: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = events.iter().map(|e| e["requestId"].as_str().unwrap()).collect();
    assert_eq!(ids, handled.iter().map(String::as_str).collect::<Vec<_>>(), "INVOKE carries each request id");
    assert!(events[0]["invokedFunctionArn"].as_str().unwrap().ends_with(":function:ftb-fixtures-dev-extended"));
    assert!(
        events[0]["deadlineMs"].as_u64().unwrap() > 0 && events[0]["trace"].as_str().unwrap().starts_with("Root=1-")
    );

    let output = client.invoke().function_name("badExtension").log_type(LogType::Tail).send().await.unwrap();
    assert_eq!(output.function_error(), Some("Unhandled"), "an extension Lambda refuses fails init");
    let log = base64::engine::general_purpose::STANDARD.decode(output.log_result().unwrap()).unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("unable to register the extension: 403 Forbidden"),
        "the refusal reached the extension: {log}"
    );
    assert!(log.contains("INIT_REPORT"), "{log}");
}

#[tokio::test]
async fn trigger_fires_a_schedule_now_with_the_event_eventbridge_sends() {
    let emulator = start_fixtures().await;
    let port = emulator.endpoints().lambda_port.to_string();
    let config = fixtures_config();
    // The emulator runs on this test's runtime: the command is awaited, not waited for.
    let trigger = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(ftb_offline_binary());
        command.args(["trigger", "sweeper", "--config"]).arg(&config).args(["--lambda-port", &port]).args(extra);
        command.kill_on_drop(true);
        async move { command.output().await.unwrap() }
    };
    let output = trigger(&[]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answered: Value = serde_json::from_slice(&output.stdout).unwrap();
    let event = &answered["event"];
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!((event["source"].as_str(), event["version"].as_str()), (Some("aws.events"), Some("0")));
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "eu-north-1");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:events:eu-north-1:000000000000:rule/ftb-fixtures-dev-SweeperEventsRuleSchedule1"])
    );
    let time = event["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && !time.contains('.'), "UTC to the second: {time}");
    assert_eq!(event["detail"], json!({}));

    let second = trigger(&["--event", "1"]).await;
    let answered: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(answered["event"], json!({"sweep": "stuck", "olderThanMinutes": 15}), "the rule's input, whole");
    let missing = trigger(&["--event", "2"]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has 2 schedule(s): --event takes 0 to 1"));
}

/// The lines `recorder` (tests/fixtures/extensions/layer/extensions) wrote for `function` so far.
fn recorder_lines(dir: &std::path::Path, function: &str) -> Vec<Value> {
    recorded_lines(dir, "recorder.jsonl").into_iter().filter(|l| l["function"] == function).collect()
}

/// External extensions (issue #22, item 3): a layer's `extensions/` executable starts beside the runtime, registers
/// before it (for INVOKE and SHUTDOWN, which only external ones may), gets each INVOKE, and SHUTDOWN with the
/// reason when its environment is spun down after idling or killed after a timeout; one that exits without
/// registering is left out and the function still runs.
#[tokio::test]
async fn an_external_extension_from_a_layer_gets_invoke_and_shutdown_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = extensions_options(dir.path());
    options.idle_timeout = Some(Duration::from_secs(1));
    let emulator = start(options).await;
    let client = lambda_client(&emulator);
    let mut handled = Vec::new();
    for _ in 0..2 {
        let (body, error) = invoke_json(&client, "watched", json!({})).await;
        assert_eq!(error, None, "{body}");
        handled.push(body["requestId"].as_str().unwrap().to_string());
    }
    let function = "ftb-extensions-dev-watched";
    let shut_down = eventually(Duration::from_secs(10), || {
        recorder_lines(dir.path(), function).iter().any(|l| l["event"]["eventType"] == "SHUTDOWN")
    });
    assert!(shut_down.await, "SHUTDOWN after the idle timeout: {:?}", recorder_lines(dir.path(), function));
    let lines = recorder_lines(dir.path(), function);
    assert_eq!(lines[0]["registered"]["functionName"], function, "registered first: {lines:?}");
    let invoked: Vec<&str> = lines.iter().filter_map(|l| l["event"]["requestId"].as_str()).collect();
    assert_eq!(invoked, handled.iter().map(String::as_str).collect::<Vec<_>>(), "one INVOKE per invocation");
    let shutdown = &lines.last().unwrap()["event"];
    assert_eq!(shutdown["shutdownReason"], "spindown");
    // Lambda's 2 s grace: the deadline is 2 s after the event was sent, a moment before the test read it.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let deadline_ms = shutdown["deadlineMs"].as_u64().unwrap();
    assert!(deadline_ms > now_ms - 10_000 && deadline_ms <= now_ms + 2_000, "{deadline_ms} against {now_ms}");

    let (body, error) = invoke_json(&client, "slow", json!({})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"), "{body}");
    let timed_out = eventually(Duration::from_secs(5), || {
        recorder_lines(dir.path(), "ftb-extensions-dev-slow").iter().any(|l| l["event"]["eventType"] == "SHUTDOWN")
    });
    assert!(timed_out.await, "{:?}", recorder_lines(dir.path(), "ftb-extensions-dev-slow"));
    let lines = recorder_lines(dir.path(), "ftb-extensions-dev-slow");
    assert_eq!(lines.last().unwrap()["event"]["shutdownReason"], "timeout");

    // An extension that crashes after its first event is not waited for by the next invocation.
    for _ in 0..2 {
        let (body, error) = invoke_json(&client, "withCrasher", json!({})).await;
        assert_eq!(error, None, "{body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let output = client.invoke().function_name("withBroken").log_type(LogType::Tail).send().await.unwrap();
    assert_eq!(output.function_error(), None, "the function runs without the extension that did not register");
    let registered = recorder_lines(dir.path(), "ftb-extensions-dev-withBroken");
    assert!(registered[0]["registered"].is_object(), "the other extension of the function did register");
    emulator.stop().await;
}

/// The events `telemetry-recorder` (tests/fixtures/extensions/telemetry-layer) was sent for `function`.
fn telemetry_events(dir: &std::path::Path, function: &str) -> Vec<Value> {
    recorded_lines(dir, "telemetry.jsonl").into_iter().filter(|l| l["function"] == function).collect()
}

/// The Telemetry API (issue #22, item 3): an extension subscribed to platform and function events is sent, over
/// HTTP to its sandbox.localdomain destination, init's end, `platform.start`, the function's log line,
/// `platform.runtimeDone` and `platform.report` with the invocation's request id and figures; through the older
/// Logs API, the same moments under that API's names.
#[tokio::test]
async fn a_telemetry_subscriber_is_sent_platform_events_and_the_functions_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(extensions_options(dir.path())).await;
    let client = lambda_client(&emulator);
    for (function, deployed) in [("told", "ftb-extensions-dev-told"), ("toldByLogs", "ftb-extensions-dev-toldByLogs")] {
        let (body, error) = invoke_json(&client, function, json!({})).await;
        assert_eq!(error, None, "{body}");
        let request_id = body["requestId"].as_str().unwrap().to_string();
        let reported = eventually(Duration::from_secs(10), || {
            telemetry_events(dir.path(), deployed).iter().any(|e| e["type"] == "platform.report")
        });
        assert!(reported.await, "{:?}", telemetry_events(dir.path(), deployed));
        let events = telemetry_events(dir.path(), deployed);
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        let of =
            |kind: &str| events.iter().find(|e| e["type"] == kind).unwrap_or_else(|| panic!("no {kind}: {kinds:?}"));
        assert_eq!(of("platform.start")["record"]["requestId"], request_id.as_str());
        let line = events.iter().find(|e| e["type"] == "function").unwrap_or_else(|| panic!("{kinds:?}"));
        assert_eq!(line["record"], "hello from the handler");
        let report = &of("platform.report")["record"];
        assert_eq!(report["requestId"], request_id.as_str());
        assert_eq!(report["metrics"]["memorySizeMB"], 1024);
        assert!(report["metrics"]["durationMs"].as_f64().unwrap() > 0.0, "{report}");
        assert!(report["metrics"]["initDurationMs"].as_f64().unwrap() > 0.0, "the first invocation reports init");
        assert!(of("platform.start")["time"].as_str().unwrap().ends_with('Z'));
        if function == "told" {
            for kind in
                ["platform.initStart", "platform.initRuntimeDone", "platform.initReport", "platform.runtimeDone"]
            {
                assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
            }
            assert_eq!(of("platform.runtimeDone")["record"]["status"], "success");
        } else {
            assert!(kinds.contains(&"platform.end"), "the Logs API's name: {kinds:?}");
            assert!(!kinds.contains(&"platform.runtimeDone") && !kinds.contains(&"platform.initStart"), "{kinds:?}");
        }
    }
    emulator.stop().await;
}
