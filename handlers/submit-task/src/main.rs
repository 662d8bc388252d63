//! submitTask, `POST /tasks`: stores a new pending task and queues it for the worker.
//! Body `{taskId?, answer?}` (other fields ignored) → 201 `{"message":"Task received","taskId":…}`; a malformed
//! body → 400; a taskId that exists → 409, the task left as it was.

use fta_common::http::Cors;
use fta_common::queue::TaskMessage;
use fta_common::store::{Created, TaskStore};
use fta_common::task::{SubmitRequest, Task};
use fta_common::{env, Error};
use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, Response};

struct SubmitTask {
    tasks: TaskStore,
    queue: aws_sdk_sqs::Client,
    queue_url: String,
    cors: Cors,
}

impl SubmitTask {
    async fn handle(&self, request: Request) -> Result<Response<Body>, Error> {
        let submission = match SubmitRequest::parse(request.body().as_ref()) {
            Ok(submission) => submission,
            Err(message) => return Ok(self.cors.message(&request, StatusCode::BAD_REQUEST, &message)),
        };
        let task_id = submission.task_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let task = Task::new(task_id.clone(), submission.answer);
        if self.tasks.create(&task).await? == Created::AlreadyExists {
            let body = serde_json::json!({ "message": "A task with this taskId already exists", "taskId": task_id });
            return Ok(self.cors.json(&request, StatusCode::CONFLICT, &body));
        }
        self.queue.send_message().queue_url(&self.queue_url).message_body(TaskMessage::body(&task_id)).send().await?;
        tracing::info!(task_id, "task received and queued");
        let body = serde_json::json!({ "message": "Task received", "taskId": task_id });
        Ok(self.cors.json(&request, StatusCode::CREATED, &body))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let handler = SubmitTask {
        tasks: TaskStore::new(&config, env::required("TASKS_TABLE")?),
        queue: aws_sdk_sqs::Client::new(&config),
        queue_url: env::required("TASKS_QUEUE_URL")?,
        cors: Cors::from_env(),
    };
    let handler = &handler;
    lambda_http::run(service_fn(move |request| handler.handle(request))).await
}
