//! The benchmark handler, which ftb-offline and `cargo lambda watch` both run. It does what the hyper baseline
//! does: reads the JSON body (an HTTP event's `body`, or the invocation payload itself) and answers
//! `{"message":"hello","n":…}` as an HTTP proxy response with every field spelled out (cargo lambda watch
//! refuses a function URL response without `isBase64Encoded` and `cookies`).
//!
//! Two binaries run it: `bench-hello` on `#[tokio::main]`'s multi-thread runtime, as `cargo lambda new` and
//! the Fault Tolerant App's handlers start, and `bench-hello-current-thread` on a current-thread runtime.
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{json, Value};

pub async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let request: Value = match event.payload.get("body").and_then(Value::as_str) {
        Some(body) => serde_json::from_str(body).unwrap_or(Value::Null),
        None => event.payload,
    };
    let answer = json!({ "message": "hello", "n": request.get("n").cloned().unwrap_or(Value::Null) });
    Ok(json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json" },
        "body": answer.to_string(),
        "isBase64Encoded": false,
        "cookies": [],
    }))
}
