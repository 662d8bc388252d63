//! The notifications benchmark's function: for each record (an SNS message whose text is its publish time, or an
//! S3 object whose key is `<put time>`, both in epoch microseconds), appends `sent,started` (handler start, epoch
//! microseconds) to `$BENCH_OUT`.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::io::Write;

async fn handle(event: LambdaEvent<Value>) -> Result<(), Error> {
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_micros();
    let mut lines = String::new();
    for record in event.payload["Records"].as_array().into_iter().flatten() {
        let sent = record["Sns"]["Message"].as_str().or_else(|| record["s3"]["object"]["key"].as_str()).unwrap_or("0");
        lines.push_str(&format!("{sent},{started}\n"));
    }
    let path = std::env::var("BENCH_OUT")?;
    std::fs::OpenOptions::new().create(true).append(true).open(path)?.write_all(lines.as_bytes())?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
