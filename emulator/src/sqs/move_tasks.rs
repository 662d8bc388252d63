//! Message move tasks (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask): the console's "Start
//! DLQ redrive". A task moves the messages of a dead-letter queue back to the queues they came from (each
//! message's `DeadLetterQueueSourceArn`), or all to one destination, at a set rate or as fast as it can, and
//! counts as it goes. One task at a time per source queue; the ten latest are listed, newest first.
//!
//! The tasks and their registry ([`MoveTasks`]) are here; the operations on [`super::service::Sqs`] that start,
//! list, cancel and run them are in [`super::redrive`]. Tasks live in memory only: `--persist` keeps messages,
//! not tasks.

use super::error::{ErrorCode, SqsError};
use super::message::epoch_ms;
use base64::Engine;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
