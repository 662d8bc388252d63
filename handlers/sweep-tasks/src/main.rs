//! sweepTasks, on a schedule: queues again every task still `pending` whose last queueing is older than
//! `STUCK_AFTER_SECONDS` (a message lost, or a worker that never finished), so no task stays pending for ever.
//! Each task is claimed with a conditional update of its `queuedAt` first, so two sweeps never queue it twice.
//! Answers `{"requeued": [ids]}`.

use fta_common::queue::TaskMessage;
use fta_common::store::TaskStore;
use fta_common::task::TaskStatus;
use fta_common::{env, Error};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Sweeper {
    tasks: TaskStore,
    queue: aws_sdk_sqs::Client,
    queue_url: String,
    stuck_after: chrono::Duration,
}

impl Sweeper {
    async fn sweep(&self) -> Result<Value, Error> {
        let now = chrono::Utc::now();
        let mut requeued = Vec::new();
        for task in self.tasks.all().await? {
            let last_queued = task.queued_at.as_deref().unwrap_or(&task.created_at);
            let stuck = chrono::DateTime::parse_from_rfc3339(last_queued)
                .is_ok_and(|queued| now.signed_duration_since(queued) >= self.stuck_after);
            if task.status != TaskStatus::Pending || !stuck {
                continue;
            }
            if !self.tasks.claim_for_requeue(&task, &fta_common::task::timestamp(now)).await? {
                continue; // Another sweep, or the worker, got there first.
            }
            self.queue
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(TaskMessage::body(&task.task_id))
                .send()
                .await?;
            tracing::info!(task_id = task.task_id, last_queued, "stuck task queued again");
            requeued.push(task.task_id);
        }
        Ok(json!({ "requeued": requeued }))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let seconds = env::required("STUCK_AFTER_SECONDS")?;
    let seconds: i64 = seconds
        .trim()
        .parse()
        .map_err(|_| format!("STUCK_AFTER_SECONDS must be a whole number of seconds, found {seconds:?}"))?;
    let sweeper = Sweeper {
        tasks: TaskStore::new(&config, env::required("TASKS_TABLE")?),
        queue: aws_sdk_sqs::Client::new(&config),
        queue_url: env::required("TASKS_QUEUE_URL")?,
        stuck_after: chrono::Duration::seconds(seconds),
    };
    let sweeper = &sweeper;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| sweeper.sweep())).await
}
