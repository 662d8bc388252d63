//! DLQ redrive on [`Sqs`]: StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask, and the task
//! that moves the messages one at a time, at the rate asked or as fast as it can. The tasks themselves and their
//! registry are [`super::move_tasks`].

use super::error::{ErrorCode, SqsError};
use super::move_tasks::{source_of_handle, MoveTask, TaskReport, MAX_LISTED};
use super::service::Sqs;
use crate::journal::What;
use std::sync::{Arc, Weak};
use std::time::Duration;

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
        let source_arn =
            source_of_handle(handle).ok_or_else(|| SqsError::invalid("Value for parameter TaskHandle is invalid."))?;
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
