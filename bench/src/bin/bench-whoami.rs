//! The WebSocket benchmark's `whoami` route: answers the caller's connection id as the route response
//! (`routeResponseSelectionExpression: $default`), so each client learns the id a backend posts to.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let id = event.payload["requestContext"]["connectionId"].as_str().unwrap_or_default();
    Ok(json!({ "statusCode": 200, "body": id }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
