//! The benchmark handler, which ftb-offline and `cargo lambda watch` both run. It does what the hyper baseline
//! does: reads the JSON body (an HTTP event's `body`, or the invocation payload itself) and answers
//! `{"message":"hello","n":…}` as an HTTP proxy response with every field spelled out (cargo lambda watch
//! refuses a function URL response without `isBase64Encoded` and `cookies`).
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
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

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
