//! The real clients the tests drive an emulator with: the stock aws-sdk clients (dummy credentials, a local
//! endpoint), the AWS CLI, and headless Chromium through `tests/browser/*.mjs`; and form encoding for raw requests.

use crate::repo_root;
use ftb_offline::Emulator;
use std::time::Duration;

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
    lambda_client_at(&emulator.endpoints().lambda_url())
}

/// `aws-sdk-lambda` for the Lambda API at `endpoint`.
pub fn lambda_client_at(endpoint: &str) -> aws_sdk_lambda::Client {
    stock_client!(aws_sdk_lambda, endpoint)
}

/// `aws-sdk-sqs` for this emulator's SQS API.
pub fn sqs_client(emulator: &Emulator) -> aws_sdk_sqs::Client {
    sqs_client_at(&emulator.endpoints().lambda_url())
}

/// `aws-sdk-sns` for this emulator's SNS API.
pub fn sns_client(emulator: &Emulator) -> aws_sdk_sns::Client {
    stock_client!(aws_sdk_sns, emulator.endpoints().lambda_url())
}

/// `aws-sdk-s3` for this emulator's S3 API, path-style (`http://127.0.0.1:<port>/<bucket>/<key>`).
pub fn s3_client(emulator: &Emulator) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-north-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "ftb-offline-tests"))
        .endpoint_url(emulator.endpoints().s3_url())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// `aws-sdk-sqs` for the SQS API at `endpoint` (an emulator running as its own process).
pub fn sqs_client_at(endpoint: &str) -> aws_sdk_sqs::Client {
    stock_client!(aws_sdk_sqs, endpoint)
}

/// `aws-sdk-apigatewaymanagement` for `endpoint` (`http://127.0.0.1:PORT/dev`).
pub fn management_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    stock_client!(aws_sdk_apigatewaymanagement, endpoint)
}

/// `text` as a form or query value: everything but unreserved characters percent-encoded.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Runs `tests/browser/<script>` (headless Chromium through playwright-core) with `args`, and returns the JSON
/// line it prints. Panics with its output if it fails.
pub async fn run_browser_script(script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let browser_tests = repo_root().join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run the README's test command (scripts/test), which installs it"
    );
    let output = tokio::process::Command::new("node")
        .arg(browser_tests.join(script))
        .args(args)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the browser run failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{script} printed no JSON line ({e}): {stdout}"))
}

/// `aws-sdk-dynamodb` for a DynamoDB Local at `endpoint`.
pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    stock_client!(aws_sdk_dynamodb, endpoint)
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

/// Invokes `function` with a JSON payload through `aws-sdk-lambda`: the JSON it answered, and its
/// `X-Amz-Function-Error` when it failed.
pub async fn invoke_json(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: serde_json::Value,
) -> (serde_json::Value, Option<String>) {
    let output = client
        .invoke()
        .function_name(function)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
        .send()
        .await
        .unwrap_or_else(|err| panic!("invoke {function}: {err:?}"));
    assert_eq!(output.status_code(), 200);
    let body = serde_json::from_slice(output.payload().expect("a payload").as_ref()).expect("a JSON payload");
    (body, output.function_error().map(String::from))
}

/// Sends `request` (a whole HTTP/1.1 request) to `address` (`127.0.0.1:PORT`), waits `patience`, then closes the
/// connection with a reset, unanswered, as a load generator does with the requests in flight at the end of its run.
pub async fn send_then_reset(address: &str, request: &[u8], patience: Duration) {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    tokio::time::sleep(patience).await;
    // Lingering for 0 s makes the close a reset (RST) rather than an orderly end (FIN).
    stream.set_zero_linger().unwrap();
    drop(stream);
}
