//! Node.js and Python functions run by the machine's `node` and `python3` through ftb-offline's bootstraps, as
//! Lambda's managed runtimes run them: handler resolution, the context object, results, errors and init
//! errors with Lambda's types and messages, logs tagged with the request id, layers, boto3 against the local SQS,
//! and hot reload under load. Fixtures: `tests/fixtures/runtimes`.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::LogType;
use base64::Engine;
use ftb_offline::{Emulator, EmulatorOptions};
use ftb_offline_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn fixture_dir() -> PathBuf {
    repo_root().join("tests/fixtures/runtimes")
}

fn options(config: &Path) -> EmulatorOptions {
    let mut options = EmulatorOptions::new(config);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options
}

async fn start_runtimes() -> Emulator {
    start(options(&fixture_dir().join("serverless.yml"))).await
}

/// The local Node.js's (major, minor).
fn node_version() -> (u32, u32) {
    let output = std::process::Command::new("node").arg("--version").output().expect("node runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut numbers = text.trim().trim_start_matches('v').split('.').map(|n| n.parse().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

/// Invokes `function` and returns its payload, function error and log tail.
async fn invoke_logged(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: Value,
) -> (Value, Option<String>, String) {
    let output = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload.to_string()))
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap_or_else(|err| panic!("invoke {function}: {err:?}"));
    let body = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    let log = base64::engine::general_purpose::STANDARD.decode(output.log_result().unwrap()).unwrap();
    (body, output.function_error().map(String::from), String::from_utf8(log).unwrap())
}

#[tokio::test]
async fn node_handlers_load_as_lambda_loads_them() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let root = fixture_dir();

    let (body, error) = invoke_json(&client, "cjs", json!({"hello": "node"})).await;
    assert_eq!(error, None, "{body}");
    assert_eq!(body["event"], json!({"hello": "node"}));
    assert_eq!(body["greeting"], "hello node from the layer", "a package of the function's layer");
    let context = &body["context"];
    assert_eq!(context["functionName"], "ftb-runtimes-dev-cjs");
    assert_eq!(context["functionVersion"], "$LATEST");
    assert_eq!(context["memoryLimitInMB"], "256", "a string, as on Lambda");
    assert_eq!(context["logGroupName"], "/aws/lambda/ftb-runtimes-dev-cjs");
    assert_eq!(context["invokedFunctionArn"], "arn:aws:lambda:eu-north-1:000000000000:function:ftb-runtimes-dev-cjs");
    assert!(context["awsRequestId"].as_str().is_some_and(|id| id.len() == 36), "{context}");
    let remaining = context["remaining"].as_i64().unwrap();
    assert!(remaining > 0 && remaining <= 5_000, "the 5 s timeout counts down: {remaining}");
    assert_eq!(context["callbackWaitsForEmptyEventLoop"], true);
    let env = &body["env"];
    assert_eq!(env["_HANDLER"], "node/cjs.handler");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x");
    assert_eq!(env["LAMBDA_TASK_ROOT"], root.display().to_string());
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["IS_OFFLINE"], "true");
    assert_eq!(env["FROM_PROVIDER"], "provider-value");
    assert_eq!(env["FROM_FUNCTION"], "function-value");
    assert_eq!(env["AWS_ENDPOINT_URL_SQS"], emulator.endpoints().lambda_url().as_str());
    let node_path: Vec<&str> = env["NODE_PATH"].as_str().unwrap().split(':').collect();
    assert!(node_path.contains(&root.join("layer/nodejs/node_modules").to_str().unwrap()), "{node_path:?}");
    assert_eq!(node_path.last(), Some(&root.to_str().unwrap()), "the task root last, as on Lambda");
    assert!(env.get("HOME").is_none(), "nothing of the emulator's environment leaks in but PATH");

    let (nested, _) = invoke_json(&client, "nested", json!({})).await;
    assert_eq!(nested, json!({"nested": true}), "exports.api.v1.handler walks nested exports");
    let (esm, _) = invoke_json(&client, "esm", json!({})).await;
    assert_eq!(esm, json!({"module": "esm", "loadedAt": "init", "url": true}), ".mjs imported through a file URL");
    let (type_module, _) = invoke_json(&client, "typeModule", json!({})).await;
    assert_eq!(type_module, json!({"module": "type-module", "file": "app.js"}), ".js under \"type\": \"module\"");
    let streamed = client.invoke().function_name("streaming").send().await.unwrap();
    assert_eq!(streamed.function_error(), None);
    assert_eq!(streamed.payload().unwrap().as_ref(), b"streamed hello", "a streaming handler loads and answers");
    let (from_remote_layer, error) = invoke_json(&client, "remoteLayer", json!({})).await;
    assert_eq!(error, None, "a layer given only by ARN is warned about, not fatal: {from_remote_layer}");
    emulator.stop().await;
}

#[tokio::test]
async fn callback_handlers_wait_for_the_event_loop_unless_told_not_to() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    // The first answer waits for the handler's 300 ms timer: the loop must drain first.
    let started = std::time::Instant::now();
    let (first, _) = invoke_json(&client, "callback", json!({})).await;
    assert!(started.elapsed() >= Duration::from_millis(300), "answered before its timer fired");
    assert_eq!(first["timersFiredBefore"], 0);
    // callbackWaitsForEmptyEventLoop = false answers at once; its timer fires later in the same process.
    let (second, _) = invoke_json(&client, "callback", json!({"dontWait": true})).await;
    assert_eq!(second["timersFiredBefore"], 1, "the first invocation's timer ran before it answered");
    let (third, _) = invoke_json(&client, "callback", json!({})).await;
    let (fourth, _) = invoke_json(&client, "callback", json!({})).await;
    assert!(third["timersFiredBefore"] == 1 || third["timersFiredBefore"] == 2, "{third}");
    assert_eq!(fourth["timersFiredBefore"], 3, "the third waited for its own timer and the second's");

    // Node.js 24's runtime refuses callback handlers at init.
    let (refused, error) = invoke_json(&client, "node24Callback", json!({})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(refused["errorType"], "Runtime.CallbackHandlerDeprecated", "{refused}");
    emulator.stop().await;
}

#[tokio::test]
async fn node_errors_are_reported_as_the_node_runtime_reports_them() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let (thrown, error) = invoke_json(&client, "errors", json!({"kind": "error"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(
        (thrown["errorType"].as_str(), thrown["errorMessage"].as_str()),
        (Some("TypeError"), Some("the answer is not a number"))
    );
    let trace = thrown["trace"].as_array().expect("the stack as `trace`, as the Node runtime sends it");
    assert!(trace[0].as_str().unwrap().starts_with("TypeError: the answer is not a number"), "{trace:?}");

    let (string, _) = invoke_json(&client, "errors", json!({"kind": "string"})).await;
    assert_eq!(string, json!({"errorType": "string", "errorMessage": "Unauthorized", "trace": []}));

    let (nothing, error) = invoke_json(&client, "errors", json!({"kind": "undefined"})).await;
    assert_eq!((nothing, error), (Value::Null, None), "returning undefined answers null");

    let (never, _) = invoke_json(&client, "errors", json!({"kind": "never"})).await;
    assert_eq!(never["errorType"], "Runtime.NodeJsExit", "{never}");

    let (unserialisable, _) = invoke_json(&client, "errors", json!({"kind": "unserialisable"})).await;
    assert_eq!(unserialisable["errorMessage"], "Unable to stringify response body", "{unserialisable}");

    let (big, _) = invoke_json(&client, "errors", json!({"kind": "big"})).await;
    assert_eq!(big["errorType"], "Function.ResponseSizeTooLarge", "{big}");

    let (crash, error) = invoke_json(&client, "errors", json!({"kind": "crash"})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(crash["errorType"], "Runtime.ExitError", "{crash}");
    assert!(crash["errorMessage"].as_str().unwrap().contains("exit status 3"), "{crash}");

    let (timeout, _) = invoke_json(&client, "errors", json!({"kind": "timeout"})).await;
    assert_eq!(timeout["errorType"], "Sandbox.Timedout", "{timeout}");
    assert!(timeout["errorMessage"].as_str().unwrap().contains("Task timed out after 1.00 seconds"), "{timeout}");

    // After a crash and a timeout, a fresh process serves the next invocation.
    let (fine, error) = invoke_json(&client, "errors", json!({})).await;
    assert_eq!((fine, error), (json!({"fine": true}), None));

    // An error thrown after the answer ends that process (the runtime reports it for the last invocation, then
    // exits); the next invocation runs on a fresh process, untouched by it.
    let (answered, error) = invoke_json(&client, "errors", json!({"kind": "throwLater"})).await;
    assert_eq!((answered, error), (json!("answered"), None));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fine, error) = invoke_json(&client, "errors", json!({})).await;
    assert_eq!((fine, error), (json!({"fine": true}), None));
    emulator.stop().await;
}

#[tokio::test]
async fn init_errors_carry_lambdas_types_and_messages() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let init_error = |function: &'static str| {
        let client = client.clone();
        async move {
            let (body, error) = invoke_json(&client, function, json!({})).await;
            assert_eq!(error.as_deref(), Some("Unhandled"), "{function}: {body}");
            (body["errorType"].as_str().unwrap().to_string(), body["errorMessage"].as_str().unwrap().to_string())
        }
    };
    let (kind, message) = init_error("missingModule").await;
    assert_eq!(kind, "Runtime.ImportModuleError");
    assert!(message.starts_with("Error: Cannot find module 'missing'"), "{message}");
    assert_eq!(
        init_error("missingExport").await,
        ("Runtime.HandlerNotFound".into(), "node/exports.nope is undefined or not exported".into())
    );
    assert_eq!(
        init_error("notAFunction").await,
        ("Runtime.HandlerNotFound".into(), "node/exports.notAFunction is not a function".into())
    );
    let (kind, message) = init_error("syntaxError").await;
    assert_eq!(kind, "Runtime.UserCodeSyntaxError");
    assert!(message.starts_with("SyntaxError: Unexpected token"), "{message}");
    assert_eq!(init_error("malformed").await, ("Runtime.MalformedHandlerName".into(), "Bad handler".into()));

    let (kind, message) = init_error("pyMissingModule").await;
    assert_eq!(kind, "Runtime.ImportModuleError");
    assert!(message.starts_with("Unable to import module 'python/missing': No module named"), "{message}");
    assert_eq!(
        init_error("pyMissingHandler").await,
        ("Runtime.HandlerNotFound".into(), "Handler 'nope' missing on module 'python/app'".into())
    );

    // TypeScript: run where this Node.js strips types, else a clear error saying what to do.
    let (body, error) = invoke_json(&client, "typescript", json!({"name": "ts"})).await;
    if node_version() >= (22, 6) {
        assert_eq!((body, error), (json!({"typed": "ts"}), None));
    } else {
        assert_eq!(body["errorType"], "Runtime.ImportModuleError", "{body}");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("node/typed.ts")
                && message.contains("does not run TypeScript")
                && message.contains("serverless-esbuild"),
            "{message}"
        );
    }
    emulator.stop().await;
}

#[tokio::test]
async fn logs_carry_the_request_id_in_each_runtimes_format() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let (body, _, log) = invoke_logged(&client, "cjs", json!({"n": 1})).await;
    let id = body["context"]["awsRequestId"].as_str().unwrap();
    let line = log.lines().find(|l| l.contains("cjs got")).unwrap_or_else(|| panic!("{log}"));
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields[1..], [id, "INFO", r#"cjs got {"n":1}"#], "{line}");
    assert!(fields[0].ends_with('Z') && fields[0].len() == 24, "an ISO timestamp: {line}");
    assert!(log.contains(&format!("{id}\tWARN\ta warning\rover two lines")), "one event per console call: {log}");
    assert!(
        log.contains(&format!("START RequestId: {id}")) && log.contains(&format!("REPORT RequestId: {id}")),
        "{log}"
    );

    let (body, _, log) = invoke_logged(&client, "py", json!({"n": 2})).await;
    let id = body["context"]["aws_request_id"].as_str().unwrap();
    assert!(log.contains("py got {'n': 2}"), "print() as it is: {log}");
    let warning = log.lines().find(|l| l.starts_with("[WARNING]")).unwrap_or_else(|| panic!("{log}"));
    assert!(warning.ends_with(&format!("\t{id}\ta warning from logging")), "{warning}");
    emulator.stop().await;
}

#[tokio::test]
async fn python_handlers_run_as_lambda_runs_them() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let root = fixture_dir();
    let (body, error) = invoke_json(&client, "py", json!({"hello": "python"})).await;
    assert_eq!(error, None, "{body}");
    assert_eq!(body["event"], json!({"hello": "python"}));
    assert_eq!(body["greeting"], "hello python from the layer");
    let context = &body["context"];
    assert_eq!(context["function_name"], "ftb-runtimes-dev-py");
    assert_eq!(context["memory_limit_in_mb"], "256");
    assert_eq!(context["invoked_function_arn"], "arn:aws:lambda:eu-north-1:000000000000:function:ftb-runtimes-dev-py");
    assert!(context["remaining"].as_i64().is_some_and(|ms| ms > 0 && ms <= 5_000), "{context}");
    let env = &body["env"];
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12");
    assert_eq!(env["LAMBDA_TASK_ROOT"], root.display().to_string());
    assert_eq!(env["IS_OFFLINE"], "true");
    let python_path: Vec<&str> = env["PYTHONPATH"].as_str().unwrap().split(':').collect();
    let layer = root.join("layer/python");
    assert_eq!(python_path[0], root.to_str().unwrap());
    assert!(python_path[1].starts_with(&format!("{}/lib/python3.", layer.display())), "{python_path:?}");
    assert!(python_path[1].ends_with("/site-packages"), "{python_path:?}");
    assert_eq!(python_path[2], layer.to_str().unwrap());

    let (failed, error) = invoke_json(&client, "py", json!({"fail": true})).await;
    assert_eq!(error.as_deref(), Some("Unhandled"));
    assert_eq!(failed["errorType"], "TaskFailed");
    assert_eq!(failed["errorMessage"], "the task failed on purpose");
    assert!(failed["requestId"].as_str().is_some_and(|id| id.len() == 36), "{failed}");
    let trace = failed["stackTrace"].as_array().unwrap();
    assert!(trace.iter().any(|frame| frame.as_str().unwrap().contains("app.py")), "{trace:?}");
    assert!(
        !trace.iter().any(|frame| frame.as_str().unwrap().contains("bootstrap.py")),
        "the runtime's frames are dropped: {trace:?}"
    );
    emulator.stop().await;
}

#[tokio::test]
async fn boto3_reaches_the_local_sqs_with_no_endpoint_in_the_code() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    let (body, error) = invoke_json(&client, "pySqs", json!({"body": "from boto3"})).await;
    assert_eq!(error, None, "{body}");
    let sqs = sqs_client(&emulator);
    let url = format!("{}/000000000000/ftb-runtimes-dev", emulator.endpoints().lambda_url());
    let received = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body(), Some("from boto3"));
    assert_eq!(messages[0].message_id(), body["messageId"].as_str());
    emulator.stop().await;
}

#[tokio::test]
async fn boto3_reaches_the_local_sns_and_s3_with_no_endpoint_in_the_code() {
    let emulator = start_runtimes().await;
    let (body, error) = invoke_json(&lambda_client(&emulator), "pyNotify", json!({"body": "from boto3"})).await;
    assert_eq!(error, None, "{body}");
    let sqs = sqs_client(&emulator);
    let url = format!("{}/000000000000/ftb-runtimes-notified-dev", emulator.endpoints().lambda_url());
    let received = sqs.receive_message().queue_url(&url).wait_time_seconds(1).send().await.unwrap();
    let envelope: Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    assert_eq!(
        (envelope["Message"].as_str(), envelope["MessageId"].as_str()),
        (Some("from boto3"), body["messageId"].as_str())
    );
    let object =
        s3_client(&emulator).get_object().bucket("ftb-runtimes-dev").key("from-boto3.txt").send().await.unwrap();
    assert_eq!(object.e_tag(), body["eTag"].as_str());
    assert_eq!(object.body.collect().await.unwrap().into_bytes().as_ref(), b"from boto3");
    emulator.stop().await;
}

#[tokio::test]
async fn a_missing_interpreter_is_one_clear_error() {
    let mut options = options(&fixture_dir().join("serverless.yml"));
    options.node = Some(PathBuf::from("/nonexistent/node"));
    let error = Emulator::start(options).await.err().expect("no Node.js, no start").to_string();
    assert!(
        error.contains("nodejs20.x") && error.contains("/nonexistent/node") && error.contains("install Node.js"),
        "{error}"
    );

    let (status, output) = run_cli(&fixture_dir(), &["config", "--format", "json"], &[]);
    assert!(status.success(), "{output}");
    let json_start = output.find('{').unwrap();
    let view: Value = serde_json::from_str(&output[json_start..]).unwrap();
    let cjs = &view["functions"]["cjs"];
    assert_eq!((cjs["runtime"].as_str(), cjs["handler"].as_str()), (Some("nodejs20.x"), Some("node/cjs.handler")));
    assert!(cjs["interpreter"].as_str().is_some_and(|i| i.contains("node ")), "{cjs}");
    let py = &view["functions"]["py"]["interpreter"];
    assert!(py.as_str().is_some_and(|i| i.contains(".venv/bin/python")), "the project's .venv: {py}");
}

/// Writes the two versioned handlers of the reload test.
fn write_versions(dir: &Path, version: u32) {
    save(&dir.join("version.js"), format!("exports.handler = async () => ({{ version: {version} }});\n"));
    save(&dir.join("version.py"), format!("def handler(event, context):\n    return {{'version': {version}}}\n"));
}

#[tokio::test]
async fn node_and_python_functions_reload_under_load_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("src");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(
        dir.path().join("serverless.yml"),
        "service: ftb-reload-interpreted\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  region: eu-north-1\nfunctions:\n  node:\n    handler: src/version.handler\n  python:\n    runtime: python3.11\n    handler: src/version.handler\n",
    )
    .unwrap();
    write_versions(&code, 1);
    let mut options = options(&dir.path().join("serverless.yml"));
    options.watch = true;
    let emulator = start(options).await;
    let client = lambda_client(&emulator);

    for function in ["node", "python"] {
        assert_eq!(invoke_json(&client, function, json!({})).await.0, json!({"version": 1}), "{function}");
    }
    // Each load task records (the version it got, whether the reload was over when it asked).
    let stop = Arc::new(AtomicBool::new(false));
    let reloaded = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    // How many tasks have made AFTER_RELOAD invocations since the reload (a count, not a time: a loaded machine
    // makes fewer a second).
    const AFTER_RELOAD: usize = 4;
    let done_after_reload = Arc::new(AtomicUsize::new(0));
    for function in ["node", "python"] {
        for _ in 0..3 {
            let (client, stop, reloaded) = (client.clone(), stop.clone(), reloaded.clone());
            let done_after_reload = done_after_reload.clone();
            load.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let after_reload = reloaded.load(Ordering::SeqCst);
                    let (body, error) = invoke_json(&client, function, json!({})).await;
                    assert_eq!(error, None, "{function}: {body}");
                    seen.push((body["version"].as_u64().unwrap(), after_reload));
                    if seen.iter().filter(|(_, after)| *after).count() == AFTER_RELOAD {
                        done_after_reload.fetch_add(1, Ordering::SeqCst);
                    }
                }
                (function, seen)
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pools = ["node", "python"].map(|function| emulator.lambda().find(function).unwrap());
    let before = pools.each_ref().map(|pool| pool.code_generation());
    write_versions(&code, 2);
    // Until the watcher has reloaded a function (its debounce is 80 ms), an old process may still answer (one
    // started just before the save may even have read the new file already); once its code generation has
    // moved on, every invocation starts on the new code.
    for (pool, before) in pools.iter().zip(before) {
        let moved_on = eventually(Duration::from_secs(20), || pool.code_generation() > before).await;
        assert!(moved_on, "{} never reloaded", pool.spec.key);
    }
    reloaded.store(true, Ordering::SeqCst);
    let tasks = load.len();
    eventually(Duration::from_secs(30), || done_after_reload.load(Ordering::SeqCst) == tasks).await;
    stop.store(true, Ordering::SeqCst);
    for task in load {
        let (function, seen) = task.await.expect("no invocation failed");
        let after: Vec<u64> = seen.iter().filter(|(_, after)| *after).map(|(version, _)| *version).collect();
        assert!(after.len() >= AFTER_RELOAD, "{function} served under load after the reload: {seen:?}");
        assert!(
            after.iter().all(|&version| version == 2),
            "{function} runs only the saved edit after the reload: {seen:?}"
        );
    }
    emulator.stop().await;
}

/// The process id a Node.js function answers from, in a service whose handler says it.
async fn node_process(client: &aws_sdk_lambda::Client) -> u64 {
    let (body, error) = invoke_json(client, "node", json!({})).await;
    assert_eq!(error, None, "{body}");
    body["pid"].as_u64().unwrap()
}

#[tokio::test]
async fn the_watcher_follows_new_folders_and_installed_packages() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("src");
    std::fs::create_dir_all(dir.path().join("node_modules/some-package")).unwrap();
    std::fs::create_dir(&code).unwrap();
    std::fs::write(
        dir.path().join("serverless.yml"),
        "service: ftb-watch-interpreted\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  region: eu-north-1\nfunctions:\n  node:\n    handler: src/pid.handler\n",
    )
    .unwrap();
    std::fs::write(code.join("pid.js"), "exports.handler = async () => ({ pid: process.pid });\n").unwrap();
    let mut options = options(&dir.path().join("serverless.yml"));
    options.watch = true;
    let emulator = start(options).await;
    let client = lambda_client(&emulator);
    let first = node_process(&client).await;

    // Inside an installed package nothing is watched (thousands of folders): the warm process stays.
    std::fs::write(dir.path().join("node_modules/some-package/index.js"), "module.exports = 1;\n").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(node_process(&client).await, first, "an edit inside a package reloads nothing");

    // A package installed (an entry of node_modules itself, as npm adds one) replaces the process.
    std::fs::create_dir(dir.path().join("node_modules/new-package")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while node_process(&client).await == first {
        assert!(std::time::Instant::now() < deadline, "an installed package was not seen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A folder made after the start (at the top, where nothing watched it before) is code too: an edit inside it
    // replaces the process.
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reloaded_by_mkdir = node_process(&client).await;
    std::fs::write(dir.path().join("lib/helper.js"), "module.exports = 2;\n").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while node_process(&client).await == reloaded_by_mkdir {
        assert!(std::time::Instant::now() < deadline, "an edit in a new folder was not seen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emulator.stop().await;
}

#[tokio::test]
async fn a_node_stream_that_fails_midway_ends_as_lambda_ends_it() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);
    // InvokeWithResponseStream: what was written, then InvokeComplete with the error the runtime reported (in
    // the trailers of its response).
    let (body, complete) = read_stream(&client, "streaming", json!({"fail": true})).await;
    assert_eq!(String::from_utf8_lossy(&body), "streamed ");
    assert_eq!(complete.error_code(), Some("Error"), "{complete:?}");
    assert!(complete.error_details().is_some_and(|d| d.contains("stream failure on purpose")), "{complete:?}");

    // Through its function URL: the body so far, then the connection is cut, so the client sees the failure.
    let url = format!("{}/lambda-url/streaming/?fail=true", emulator.endpoints().http_url());
    let mut response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break Ok(()),
            Err(err) => break Err(err),
        }
    };
    assert_eq!(String::from_utf8_lossy(&received), "streamed ");
    assert!(ended.is_err(), "cut off, not ended as if complete");
    emulator.stop().await;
}

/// What InvokeWithResponseStream delivered for `payload`: the body, and how it ended (InvokeComplete, with the
/// log's tail).
async fn read_stream(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: Value,
) -> (Vec<u8>, aws_sdk_lambda::types::InvokeWithResponseStreamCompleteEvent) {
    use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
    let output = client
        .invoke_with_response_stream()
        .function_name(function)
        .payload(Blob::new(payload.to_string()))
        .log_type(LogType::Tail)
        .send()
        .await;
    let output = output.unwrap_or_else(|e| panic!("{function}: {e:?}"));
    let mut events = output.event_stream;
    let (mut body, mut complete) = (Vec::new(), None);
    while let Some(event) = events.recv().await.unwrap() {
        match event {
            Event::PayloadChunk(chunk) => body.extend_from_slice(chunk.payload().unwrap().as_ref()),
            Event::InvokeComplete(done) => complete = Some(done),
            other => panic!("unexpected event {other:?}"),
        }
    }
    (body, complete.expect("InvokeComplete ends the stream"))
}

/// Issue #22's last streaming items: REPORT is written when the stream ends (with the lines logged while it ran,
/// and its whole duration); the function's timeout cuts off a stream under way with `Sandbox.Timedout`; beyond its
/// first 6 MB a stream goes at most 2 MiB/s, as Lambda paces it.
#[tokio::test]
async fn a_stream_is_reported_when_it_ends_cut_off_at_the_timeout_and_paced_beyond_6_mb() {
    let emulator = start_runtimes().await;
    let client = lambda_client(&emulator);

    let (body, complete) = read_stream(&client, "streamingLong", json!({})).await;
    assert_eq!(String::from_utf8_lossy(&body), "first second");
    let log = base64::engine::general_purpose::STANDARD.decode(complete.log_result().expect("LogType: Tail")).unwrap();
    let log = String::from_utf8_lossy(&log);
    let report = log.lines().find(|l| l.starts_with("REPORT")).unwrap_or_else(|| panic!("{log}"));
    assert!(log.contains("done streaming"), "lines logged while streaming are in the log: {log}");
    let duration: f64 = report.split("Duration: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(duration >= 300.0, "the duration is the stream's: {report}");

    let started = std::time::Instant::now();
    let (body, complete) = read_stream(&client, "streamingStuck", json!({})).await;
    assert_eq!(String::from_utf8_lossy(&body), "first ", "what was written before the timeout");
    assert_eq!(complete.error_code(), Some("Sandbox.Timedout"), "{complete:?}");
    let took = started.elapsed();
    // The handler never ends on its own; the upper bound leaves room for its cold start (not in the timeout).
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(10), "cut off at the 1 s timeout: {took:?}");

    // 2 MiB beyond the first 6 MiB at 2 MiB/s: at least a second from the moment the 6 MiB are through (a lower
    // bound: a slower machine only adds to it).
    use aws_sdk_lambda::types::InvokeWithResponseStreamResponseEvent as Event;
    let output = client.invoke_with_response_stream().function_name("streamingBig").send().await.unwrap();
    let mut events = output.event_stream;
    let (mut received, mut capped_from) = (0, None);
    while let Some(event) = events.recv().await.unwrap() {
        if let Event::PayloadChunk(chunk) = event {
            received += chunk.payload().unwrap().as_ref().len();
            if received >= 6 * 1024 * 1024 && capped_from.is_none() {
                capped_from = Some(std::time::Instant::now());
            }
        }
    }
    assert_eq!(received, 8 * 1024 * 1024);
    let capped = capped_from.expect("past 6 MiB").elapsed();
    assert!(capped >= Duration::from_millis(900), "the last 2 MiB at 2 MiB/s: {capped:?}");
    emulator.stop().await;
}

/// `kill -9` leaves the emulator no chance to stop its processes. A handler in the middle of an invocation must
/// end with it all the same: a Node.js one used to outlive it, spinning at full CPU time on its broken log.
#[tokio::test]
async fn handler_processes_end_with_an_emulator_killed_outright() {
    let config = fixture_dir().join("serverless.yml");
    let mut args = vec!["--config", config.to_str().unwrap(), "start", "--no-build", "--no-watch"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(&fixture_dir(), &args, &[]);
    let ready = process.wait_until_ready(Duration::from_secs(60));
    let client = lambda_client_at(&ready.address("Lambda, SQS and SNS APIs on "));
    let accepted = client
        .invoke()
        .function_name("ticking")
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .send()
        .await
        .expect("the asynchronous invoke is accepted");
    assert_eq!(accepted.status_code(), 202);
    process.wait_for_line("tick 3", Duration::from_secs(30));
    let handlers = children_running(process.pid(), "bootstrap.mjs");
    assert_eq!(handlers.len(), 1, "one Node.js handler process, in the middle of its invocation");

    process.crash();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while handlers.iter().any(|pid| is_running(*pid)) {
        assert!(std::time::Instant::now() < deadline, "handler process {handlers:?} outlived the killed emulator");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The processes whose parent is `parent` and whose command line mentions `needle`.
fn children_running(parent: u32, needle: &str) -> Vec<u32> {
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(needle))
        })
        .collect()
}

/// Whether `pid` is a process that has not ended (a zombie has).
fn is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, None | Some("Z") | Some("X"))
}
