//! dlqHandler: tasks that kept failing arrive on the dead-letter queue. Each is marked `error`, keeping the last
//! failure's message, and pushed to the browsers. A malformed message is logged and dropped, never poison.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use fta_common::push::Pusher;
use fta_common::queue::{batch_item_failure, receive_count, TaskMessage};
use fta_common::store::TaskStore;
use fta_common::task::StatusUpdate;
use fta_common::{env, Error};
use lambda_runtime::{service_fn, LambdaEvent};

struct DlqHandler {
    tasks: TaskStore,
    pusher: Pusher,
}

impl DlqHandler {
    async fn handle(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
        let mut response = SqsBatchResponse::default();
        for message in &event.payload.records {
            if let Err(err) = self.process(message).await {
                tracing::error!(message_id = ?message.message_id, "cannot record the failed task, will retry: {err}");
                response.batch_item_failures.push(batch_item_failure(message));
            }
        }
        Ok(response)
    }

    async fn process(&self, message: &SqsMessage) -> Result<(), Error> {
        let Some(TaskMessage { task_id }) = TaskMessage::parse(message.body.as_deref()) else {
            tracing::warn!(body = ?message.body, "not a task message; dropping it");
            return Ok(());
        };
        let fallback =
            format!("Task failed and was moved to the dead-letter queue (receive {})", receive_count(message));
        match self.tasks.mark_error(&task_id, &fallback).await? {
            Some(task) => {
                tracing::warn!(task_id, retries = task.retries, "task failed for good");
                self.pusher.broadcast(&StatusUpdate::from(&task)).await;
            }
            None => tracing::info!(task_id, "task missing or already final; nothing to do"),
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let handler = DlqHandler {
        tasks: TaskStore::new(&config, env::required("TASKS_TABLE")?),
        pusher: Pusher::from_env(&config)?,
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
