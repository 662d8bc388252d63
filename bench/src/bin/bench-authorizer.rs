//! The benchmark's HTTP API Lambda authorizer: a simple response allowing every caller. Its answer is cached
//! (bench/serverless.yml), so the auth section measures what a cached authorizer adds to a request.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({"isAuthorized": true, "context": {"user": "bench"}}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
