//! The benchmark's echo handler: answers with the event it was given. The bench asks it once for the event an
//! HTTP API route gives its handler, and hands that event to the process model's limit, so that the limit's
//! handler parses what ftb-offline's does.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })).await
}
