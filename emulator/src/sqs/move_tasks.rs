//! Message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask): the console's "Start
//! DLQ redrive". A task moves the messages of a dead-letter queue back to the queues they came from (each
//! message's `DeadLetterQueueSourceArn`), or all to one destination, at a set rate or as fast as it can, and
//! counts as it goes. One task at a time per source queue; the ten latest are listed, newest first.
//!
//! The registry of tasks ([`MoveTasks`]) is here with the operations on [`Sqs`] that start, list, cancel and run
//! them. Tasks live in memory only: `--persist` keeps messages, not tasks.

use super::error::{ErrorCode, SqsError};
use super::message::epoch_ms;
use super::service::Sqs;
use crate::journal::What;
use base64::Engine;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// MaxNumberOfMessagesPerSecond: 1 to 500 (StartMessageMoveTask).
pub const MAX_RATE: u32 = 500;
/// ListMessageMoveTasks shows at most the 10 latest tasks of a queue, 1 unless asked.
pub const MAX_LISTED: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl TaskStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Cancelling => "CANCELLING",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
        }
    }
}

/// One task: what it moves where, and how far it has got.
pub struct MoveTask {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<u32>,
    pub started_ms: u64,
    /// The source queue's visible messages when the task started.
    pub to_move: u64,
    moved: AtomicU64,
    status: Mutex<(TaskStatus, Option<String>)>,
}

/// A task as ListMessageMoveTasks shows it.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// Only while the task runs: a finished task cannot be cancelled.
    pub handle: Option<String>,
    pub status: TaskStatus,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<u32>,
    pub moved: u64,
    pub to_move: u64,
    pub failure_reason: Option<String>,
    pub started_ms: u64,
}

impl MoveTask {
    fn new(source_arn: &str, destination_arn: Option<String>, rate: Option<u32>, to_move: u64) -> Self {
        Self {
            handle: task_handle(source_arn),
            source_arn: source_arn.to_string(),
            destination_arn,
            rate,
            started_ms: epoch_ms(),
            to_move,
            moved: AtomicU64::new(0),
            status: Mutex::new((TaskStatus::Running, None)),
        }
    }

    pub fn status(&self) -> TaskStatus {
        self.status.lock().unwrap().0
    }

    pub fn moved(&self) -> u64 {
        self.moved.load(Ordering::SeqCst)
    }

    pub(super) fn count_moved(&self, messages: usize) {
        self.moved.fetch_add(messages as u64, Ordering::SeqCst);
    }

    /// Whether the runner should stop: the task was cancelled (which the runner then completes).
    pub(super) fn cancel_requested(&self) -> bool {
        self.status() == TaskStatus::Cancelling
    }

    /// The runner is done: completed, cancelled (if it was asked to stop), or failed with `failure`.
    pub(super) fn finish(&self, failure: Option<String>) {
        let mut status = self.status.lock().unwrap();
        *status = match (status.0, failure) {
            (_, Some(reason)) => (TaskStatus::Failed, Some(reason)),
            (TaskStatus::Cancelling, None) => (TaskStatus::Cancelled, None),
            (_, None) => (TaskStatus::Completed, None),
        };
    }

    pub fn report(&self) -> TaskReport {
        let (status, failure_reason) = self.status.lock().unwrap().clone();
        TaskReport {
            handle: (status == TaskStatus::Running).then(|| self.handle.clone()),
            status,
            source_arn: self.source_arn.clone(),
            destination_arn: self.destination_arn.clone(),
            rate: self.rate,
            moved: self.moved(),
            to_move: self.to_move,
            failure_reason,
            started_ms: self.started_ms,
        }
    }
}

/// Every task, newest last.
#[derive(Default)]
pub struct MoveTasks {
    tasks: Mutex<VecDeque<Arc<MoveTask>>>,
}

impl MoveTasks {
    /// Registers a new task for `source_arn`, unless one is running there already.
    pub(super) fn start(
        &self,
        source_arn: &str,
        destination_arn: Option<String>,
        rate: Option<u32>,
        to_move: u64,
    ) -> Result<Arc<MoveTask>, SqsError> {
        if rate.is_some_and(|r| !(1..=MAX_RATE).contains(&r)) {
            return Err(SqsError::invalid(format!(
                "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and {MAX_RATE}."
            )));
        }
        let mut tasks = self.tasks.lock().unwrap();
        let running = |t: &&Arc<MoveTask>| {
            t.source_arn == source_arn && matches!(t.status(), TaskStatus::Running | TaskStatus::Cancelling)
        };
        if tasks.iter().any(|t| running(&t)) {
            return Err(SqsError::invalid("There is already a task running. Only one active task is allowed for a source queue arn at a given time."));
        }
        let task = Arc::new(MoveTask::new(source_arn, destination_arn, rate, to_move));
        tasks.push_back(task.clone());
        Ok(task)
    }

    /// The latest `max` tasks of `source_arn`, newest first.
    pub fn list(&self, source_arn: &str, max: usize) -> Vec<TaskReport> {
        let tasks = self.tasks.lock().unwrap();
        tasks.iter().rev().filter(|t| t.source_arn == source_arn).take(max).map(|t| t.report()).collect()
    }

    /// Asks a running task to stop; returns how many messages it has moved.
    pub fn cancel(&self, handle: &str) -> Result<u64, SqsError> {
        let task = self
            .tasks
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.handle == handle)
            .cloned()
            .ok_or_else(|| SqsError::new(ErrorCode::ResourceNotFoundException, "Task does not exist."))?;
        let mut status = task.status.lock().unwrap();
        if status.0 != TaskStatus::Running {
            return Err(SqsError::new(
                ErrorCode::ResourceNotFoundException,
                format!("Task does not exist or is not running: it is {}.", status.0.name()),
            ));
        }
        status.0 = TaskStatus::Cancelling;
        Ok(task.moved())
    }
}

impl Sqs {
    /// StartMessageMoveTask: moves the messages of dead-letter queue `source_arn` back to where they came from,
    /// or to `destination_arn`, at up to `rate` a second.
    pub fn start_move_task(
        &self,
        source_arn: &str,
        destination_arn: Option<&str>,
        rate: Option<u32>,
    ) -> Result<String, SqsError> {
        let not_found = |parameter: &str| {
            SqsError::new(
                ErrorCode::ResourceNotFoundException,
                format!("The resource that you specified for the {parameter} parameter doesn't exist."),
            )
        };
        let source = self.queue_by_arn(source_arn).map_err(|_| not_found("SourceArn"))?;
        if self.dead_letter_sources(&source).is_empty() {
            return Err(SqsError::invalid("Source queue must be configured as a Dead Letter Queue."));
        }
        if let Some(destination) = destination_arn {
            let destination = self.queue_by_arn(destination).map_err(|_| not_found("DestinationArn"))?;
            if destination.arn == source.arn {
                return Err(SqsError::invalid("Source queue arn and destination queue arn cannot be the same."));
            }
            if destination.settings().fifo != source.settings().fifo {
                return Err(SqsError::invalid(
                    "The source queue and destination queue must be of the same queue type.",
                ));
            }
        }
        let to_move = source.visible_count() as u64;
        let task = self.move_tasks.start(&source.arn, destination_arn.map(String::from), rate, to_move)?;
        tracing::info!(target: "sqs", "moving {to_move} messages out of {} to {}", source.name, destination_arn.unwrap_or("their source queues"));
        tokio::spawn(run_move_task(self.me.clone(), task.clone()));
        Ok(task.handle.clone())
    }

    /// ListMessageMoveTasks: the latest `max` (1 unless given, at most 10) tasks of `source_arn`, newest first.
    pub fn list_move_tasks(&self, source_arn: &str, max: Option<u64>) -> Result<Vec<TaskReport>, SqsError> {
        let max = max.unwrap_or(1);
        if !(1..=MAX_LISTED as u64).contains(&max) {
            return Err(SqsError::invalid(format!(
                "Value {max} for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10."
            )));
        }
        let source = self.queue_by_arn(source_arn).map_err(|_| {
            SqsError::new(
                ErrorCode::ResourceNotFoundException,
                "The resource that you specified for the SourceArn parameter doesn't exist.",
            )
        })?;
        Ok(self.move_tasks.list(&source.arn, max as usize))
    }

    /// CancelMessageMoveTask: stops a running task; returns how many messages it had moved.
    pub fn cancel_move_task(&self, handle: &str) -> Result<u64, SqsError> {
        let source_arn = super::move_tasks::source_of_handle(handle)
            .ok_or_else(|| SqsError::invalid("Value for parameter TaskHandle is invalid."))?;
        self.queue_by_arn(&source_arn).map_err(|_| {
            SqsError::new(
                ErrorCode::ResourceNotFoundException,
                "The resource that you specified for the SourceArn parameter doesn't exist.",
            )
        })?;
        self.move_tasks.cancel(handle)
    }

    /// Moves one message of a task's source queue, if any is visible; `Ok(false)` when none is left.
    fn move_one(&self, task: &MoveTask) -> Result<bool, String> {
        let source = self.queue_by_arn(&task.source_arn).map_err(|_| "The source queue was deleted.".to_string())?;
        let Some(message) = source.take_visible(1).pop() else { return Ok(false) };
        let destination_arn = task.destination_arn.clone().or_else(|| message.content.dead_letter_source_arn.clone());
        let destination = destination_arn.as_deref().map(|arn| self.queue_by_arn(arn));
        match destination {
            Some(Ok(destination)) => {
                // A redriven message is a new message there, with a new id (SQS developer guide, DLQ redrive).
                let (old_id, renewed) = (message.content.id.clone(), message.renewed());
                self.journal.record(|| What::MessageMoved {
                    from: source.name.clone(),
                    to: destination.name.clone(),
                    message_id: old_id,
                    new_message_id: renewed.content.id.clone(),
                });
                destination.accept(vec![renewed], None);
                self.changed(&destination);
                self.changed(&source);
                task.count_moved(1);
                Ok(true)
            }
            failed => {
                let id = message.content.id.clone();
                source.keep(vec![message]);
                tracing::warn!(target: "sqs", "message move task for {}: message {id} cannot be moved to {}", source.name, destination_arn.as_deref().unwrap_or("its source queue (it did not come from one)"));
                // The failure reasons SQS reports.
                Err(match failed {
                    None => "CouldNotDetermineMessageSource".to_string(),
                    _ => ErrorCode::QueueDoesNotExist.query_code().to_string(),
                })
            }
        }
    }
}

/// Runs a message move task until it has moved the messages it started with, the source is empty, it is
/// cancelled, or a message cannot be moved (the task then fails and the message stays).
async fn run_move_task(sqs: Weak<Sqs>, task: Arc<MoveTask>) {
    let pause = task.rate.map(|rate| Duration::from_secs(1) / rate);
    let outcome = loop {
        if task.cancel_requested() || task.moved() >= task.to_move {
            break Ok(());
        }
        let Some(sqs) = sqs.upgrade() else { return };
        match sqs.move_one(&task) {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(reason) => break Err(reason),
        }
        drop(sqs);
        match pause {
            Some(pause) => tokio::time::sleep(pause).await,
            None => tokio::task::yield_now().await,
        }
    };
    task.finish(outcome.err());
    tracing::info!(target: "sqs", "message move task for {} {} after moving {}", task.source_arn, task.status().name().to_lowercase(), task.moved());
}

/// The source queue a task handle names; `None` when it is no task handle.
pub fn source_of_handle(handle: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(handle).ok()?;
    let inner: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    inner.get("taskId")?;
    inner.get("sourceArn")?.as_str().map(String::from)
}

/// An opaque handle that, as AWS's do, carries the task id and source queue (base64 of a small JSON object).
fn task_handle(source_arn: &str) -> String {
    let inner = serde_json::json!({ "taskId": uuid::Uuid::new_v4().to_string(), "sourceArn": source_arn });
    base64::engine::general_purpose::STANDARD.encode(inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_running_task_per_source_and_cancel_only_while_running() {
        let tasks = MoveTasks::default();
        let task = tasks.start("arn:dlq", None, Some(10), 3).unwrap();
        assert!(tasks.start("arn:dlq", None, None, 3).is_err());
        assert!(tasks.start("arn:dlq", None, Some(501), 3).is_err());
        assert_eq!(source_of_handle(&task.handle).as_deref(), Some("arn:dlq"));
        assert_eq!(source_of_handle("foobared"), None);
        assert_eq!(tasks.cancel(&task.handle).unwrap(), 0);
        task.finish(None);
        assert_eq!(task.status(), TaskStatus::Cancelled);
        assert_eq!(tasks.cancel(&task.handle).unwrap_err().code, ErrorCode::ResourceNotFoundException);
        let listed = tasks.list("arn:dlq", MAX_LISTED);
        assert_eq!((listed.len(), listed[0].handle.clone()), (1, None));
        assert!(tasks.start("arn:dlq", None, None, 0).is_ok(), "a new task once the last one ended");
    }
}
