//! The benchmark handler: parses the event and answers `{"message":"hello","n":…}`, like the hyper baseline.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "message": "hello", "n": event.payload.get("n").cloned().unwrap_or(Value::Null) }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
