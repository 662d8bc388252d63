//! DynamoDB Streams through an event source mapping: PutItem → stream handler start latency, on DynamoDB Local as
//! `start:with-db` runs it (`bench/streams.yml`, the consumer `bench-stream`). Items are written one at a time,
//! each waiting for the handler, so each is read alone from an idle shard. Needs the Docker engine and image the
//! test command provisions; without them the table gives the reason. The database is stopped on every path.

use crate::cli;
use crate::queue::{now_us, wait_for_lines};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WARM_UP: usize = 10;
const SAMPLES: usize = 200;
const STAGE: &str = "benchstreams";

pub async fn table(root: &Path) -> String {
    cli::cargo_build_release(root, &["--workspace", "--bin", "ftb-offline", "--bin", "bench-stream"]);
    let binary = cli::release_path(root, "ftb-offline");
    let out = std::env::temp_dir().join(format!("ftb-bench-stream-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let measured = measure(&binary, &root.join("bench"), &out).await;
    let _ = std::fs::remove_file(&out);
    let header = "| figure | ftb-offline |\n|---|---|\n";
    match measured {
        Ok((p50, p99)) => {
            println!("streams: PutItem → handler start p50 {} ms p99 {} ms", p50.as_millis(), p99.as_millis());
            format!(
                "{header}| PutItem → stream handler start, p50 / p99 ({SAMPLES} writes, one at a time) | {} ms / {} ms |\n",
                p50.as_millis(),
                p99.as_millis()
            )
        }
        Err(reason) => {
            println!("streams: {reason}");
            format!("{header}| PutItem → stream handler start | could not measure: {reason} |\n")
        }
    }
}

async fn measure(binary: &Path, dir: &Path, out: &Path) -> Result<(Duration, Duration), String> {
    let db_port = cli::free_port().to_string();
    let param = format!("benchOut={}", out.display());
    let mut args =
        vec!["start:with-db", "--no-console", "--config", "streams.yml", "--no-build", "--release", "--no-watch"];
    args.extend(["--stage", STAGE, "--db-port", &db_port, "--param", &param]);
    args.extend(["--http-port", "0", "--websocket-port", "0", "--lambda-port", "0", "--s3-port", "0"]);
    let _stop_db = StopDb { binary: binary.to_path_buf(), dir: dir.to_path_buf() };
    let _running = cli::start_until_ready(binary, dir, &args)?;
    let client = client(&format!("http://127.0.0.1:{db_port}"));
    let mut latencies = Vec::with_capacity(SAMPLES);
    for i in 0..WARM_UP + SAMPLES {
        client
            .put_item()
            .table_name("bench-stream-items")
            .item("id", aws_sdk_dynamodb::types::AttributeValue::S(i.to_string()))
            .item("sent", aws_sdk_dynamodb::types::AttributeValue::N(now_us().to_string()))
            .send()
            .await
            .map_err(|e| format!("PutItem: {e}"))?;
        let line = wait_for_lines(out, i + 1).await?;
        let (sent, started) = line.split_once(',').ok_or_else(|| format!("the consumer wrote {line:?}"))?;
        if i >= WARM_UP {
            let (sent, started): (u64, u64) = (sent.parse().unwrap_or(0), started.parse().unwrap_or(0));
            latencies.push(Duration::from_micros(started.saturating_sub(sent)));
        }
    }
    latencies.sort();
    Ok((latencies[latencies.len() / 2], latencies[latencies.len() * 99 / 100]))
}

fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-north-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "ftb-bench"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Stops (and purges) the benchmark's database when dropped, on every path.
struct StopDb {
    binary: PathBuf,
    dir: PathBuf,
}

impl Drop for StopDb {
    fn drop(&mut self) {
        let _ = cli::run(&self.binary, &self.dir, &["stop:db", "--purge", "--config", "streams.yml", "--stage", STAGE]);
    }
}
