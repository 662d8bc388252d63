//! processTask: the worker on the tasks queue (ReportBatchItemFailures). The simulated work takes up to
//! WORK_MAX_MS and fails with probability FAILURE_RATE. A success marks the task `success`; a failure records the attempt, keeps it
//! pending and reports the message as failed, so SQS delivers it again and, after maxReceiveCount, moves it to
//! the dead-letter queue. Every change is pushed to the browsers. A redelivered message never undoes a final state.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use fta_common::push::Pusher;
use fta_common::queue::{batch_item_failure, receive_count, TaskMessage};
use fta_common::store::TaskStore;
use fta_common::task::StatusUpdate;
use fta_common::{env, Error};
use lambda_runtime::{service_fn, LambdaEvent};

struct ProcessTask {
    tasks: TaskStore,
    pusher: Pusher,
    failure_rate: f64,
    work_max_ms: u64,
}

/// What became of one message.
enum Outcome {
    Done,
    /// Deliver it again later.
    Retry,
}

impl ProcessTask {
    async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
        let mut response = SqsBatchResponse::default();
        for message in &event.payload.records {
            let outcome = match self.process(message).await {
                Ok(outcome) => outcome,
                Err(err) => {
                    tracing::error!(message_id = ?message.message_id, "cannot process the message: {err}");
                    Outcome::Retry
                }
            };
            if let Outcome::Retry = outcome {
                response.batch_item_failures.push(batch_item_failure(message));
            }
        }
        Ok(response)
    }

    async fn process(&self, message: &SqsMessage) -> Result<Outcome, Error> {
        let Some(TaskMessage { task_id }) = TaskMessage::parse(message.body.as_deref()) else {
            tracing::warn!(body = ?message.body, "not a task message; dropping it");
            return Ok(Outcome::Done);
        };
        let attempt = receive_count(message);
        let Some(task) = self.tasks.get(&task_id).await? else {
            tracing::warn!(task_id, "no such task; dropping the message");
            return Ok(Outcome::Done);
        };
        if task.status.is_final() {
            tracing::info!(task_id, status = task.status.as_str(), "already final; nothing to do");
            return Ok(Outcome::Done);
        }
        if self.work_max_ms > 0 {
            let work = std::time::Duration::from_millis(fastrand::u64(0..=self.work_max_ms));
            tokio::time::sleep(work).await;
        }
        if fastrand::f64() < self.failure_rate {
            let error = format!("Simulated failure on attempt {attempt}");
            tracing::warn!(task_id, attempt, "{error}");
            if let Some(task) = self.tasks.record_failure(&task_id, attempt, &error).await? {
                self.pusher.broadcast(&StatusUpdate::from(&task)).await;
            }
            return Ok(Outcome::Retry);
        }
        if let Some(task) = self.tasks.mark_success(&task_id, attempt - 1).await? {
            tracing::info!(task_id, attempt, "task succeeded");
            self.pusher.broadcast(&StatusUpdate::from(&task)).await;
        }
        Ok(Outcome::Done)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let handler = ProcessTask {
        tasks: TaskStore::new(&config, env::required("TASKS_TABLE")?),
        pusher: Pusher::from_env(&config)?,
        failure_rate: env::failure_rate()?,
        work_max_ms: env::work_max_ms()?,
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
