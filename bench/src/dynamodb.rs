//! `start:with-db` with the image present: from running the command to the emulator's `ready:` line, for a
//! fresh container (created, started, DynamoDB Local answering, two tables created) and for a second run that
//! reuses the running one. Needs the Docker engine and image that the test command provisions; without them the
//! table gives the reason. The container is stopped (`stop:db`) on every path.

use crate::cli::{self, median};
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 5;

const SERVICE: &str = r#"service: ftb-bench-db
provider:
  name: aws
  region: eu-north-1
resources:
  Resources:
    TasksTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: tasks
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - { AttributeName: taskId, AttributeType: S }
          - { AttributeName: status, AttributeType: S }
        KeySchema:
          - { AttributeName: taskId, KeyType: HASH }
        GlobalSecondaryIndexes:
          - IndexName: byStatus
            KeySchema:
              - { AttributeName: status, KeyType: HASH }
            Projection: { ProjectionType: ALL }
    ConnectionsTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: connections
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - { AttributeName: connectionId, AttributeType: S }
        KeySchema:
          - { AttributeName: connectionId, KeyType: HASH }
"#;

pub async fn table(root: &Path) -> String {
    let binary = cli::release_binary(root);
    let dir = std::env::temp_dir().join(format!("ftb-bench-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("serverless.yml"), SERVICE).unwrap();
    let measured = measure(&binary, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let header = format!(
        "| `start:with-db` → ready, new container (median of {RUNS}) | again, reusing the running container |\n|---|---|\n"
    );
    match measured {
        Ok((fresh, reused)) => {
            println!("start:with-db: fresh container {} ms, reusing it {} ms", fresh.as_millis(), reused.as_millis());
            format!("{header}| {:.2} s | {} ms |\n", fresh.as_secs_f64(), reused.as_millis())
        }
        Err(reason) => {
            println!("start:with-db could not start: {reason}");
            format!("{header}| could not start: {reason} | – |\n")
        }
    }
}

/// The median launch with a new container and with the running one, or why `start:with-db` could not start.
fn measure(binary: &Path, dir: &Path) -> Result<(Duration, Duration), String> {
    let args = [
        "start:with-db",
        "--no-console",
        "--no-build",
        "--db-port",
        "0",
        "--http-port",
        "0",
        "--websocket-port",
        "0",
        "--lambda-port",
        "0",
        "--s3-port",
        "0",
    ];
    let _stop_db = StopDb { binary: binary.to_path_buf(), dir: dir.to_path_buf() };
    cli::run(binary, dir, &["stop:db"])?;
    let (mut fresh, mut reused) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        fresh.push(cli::start_until_ready(binary, dir, &args)?.ready_after);
        reused.push(cli::start_until_ready(binary, dir, &args)?.ready_after);
        cli::run(binary, dir, &["stop:db"])?;
    }
    Ok((median(fresh), median(reused)))
}

/// Stops the DynamoDB Local container of the service in `dir` when dropped, on every path.
struct StopDb {
    binary: PathBuf,
    dir: PathBuf,
}

impl Drop for StopDb {
    fn drop(&mut self) {
        let _ = cli::run(&self.binary, &self.dir, &["stop:db"]);
    }
}
