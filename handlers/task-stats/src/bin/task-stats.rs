//! taskStats, on the tasks table's stream: counts each new task (`submitted`) and each task reaching `success` or
//! `error`, adding a batch's counts to the stats item in one update. A failed update fails the batch, which the
//! stream delivers again, so no count is lost.

use fta_common::stats::{Outcomes, StatsStore};
use fta_common::{env, Error};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// The status in a stream record's image (`{"status": {"S": "pending"}}`).
fn status<'a>(record: &'a Value, image: &str) -> Option<&'a str> {
    record["dynamodb"][image]["status"]["S"].as_str()
}

/// What one batch of records adds to the counts.
fn count(records: &[Value]) -> Outcomes {
    let mut outcomes = Outcomes::default();
    for record in records {
        match (record["eventName"].as_str(), status(record, "OldImage"), status(record, "NewImage")) {
            (Some("INSERT"), _, _) => outcomes.submitted += 1,
            (Some("MODIFY"), Some("pending"), Some("success")) => outcomes.success += 1,
            (Some("MODIFY"), Some("pending"), Some("error")) => outcomes.error += 1,
            _ => {}
        }
    }
    outcomes
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let stats = StatsStore::new(&config, env::required("STATS_TABLE")?);
    let stats = &stats;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let records = event.payload["Records"].as_array().cloned().unwrap_or_default();
        let outcomes = count(&records);
        if !outcomes.is_empty() {
            stats.add(&outcomes).await?;
            tracing::info!(?outcomes, records = records.len(), "counted");
        }
        Ok::<(), Error>(())
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_new_tasks_and_final_transitions_count() {
        let image = |status: &str| json!({"status": {"S": status}});
        let records = [
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": image("pending")}}),
            json!({"eventName": "MODIFY", "dynamodb": {"OldImage": image("pending"), "NewImage": image("pending")}}),
            json!({"eventName": "MODIFY", "dynamodb": {"OldImage": image("pending"), "NewImage": image("success")}}),
            json!({"eventName": "MODIFY", "dynamodb": {"OldImage": image("pending"), "NewImage": image("error")}}),
            json!({"eventName": "MODIFY", "dynamodb": {"OldImage": image("success"), "NewImage": image("success")}}),
            json!({"eventName": "REMOVE", "dynamodb": {"OldImage": image("error")}}),
        ];
        assert_eq!(count(&records), Outcomes { submitted: 1, success: 1, error: 1 });
    }
}
