//! Tasks and WebSocket connections in DynamoDB (`TASKS_TABLE`, `CONNECTIONS_TABLE`). Status changes are
//! conditional on the task still being pending, so a redelivered message never undoes a final state.

use crate::task::{Task, TaskStatus};
use crate::Error;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
#[derive(Clone)]
pub struct TaskStore {
    client: Client,
    table: String,
}

/// What [`TaskStore::create`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    New,
    /// A task with this id exists and was left as it was.
    AlreadyExists,
}

impl TaskStore {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        Self { client: Client::new(config), table }
    }

    /// Stores a new task unless one with its id exists.
    pub async fn create(&self, task: &Task) -> Result<Created, Error> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(task)?))
            .condition_expression("attribute_not_exists(taskId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Created::New),
            Err(err) if is_condition_failure(&err) => Ok(Created::AlreadyExists),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn get(&self, task_id: &str) -> Result<Option<Task>, Error> {
        let output = self.client.get_item().table_name(&self.table).key("taskId", s(task_id)).send().await?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Every task, over all scan pages, newest first.
    pub async fn all(&self) -> Result<Vec<Task>, Error> {
        let mut tasks: Vec<Task> = Vec::new();
        let mut pages = self.client.scan().table_name(&self.table).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            tasks.push(serde_dynamo::from_item(item?)?);
        }
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.task_id.cmp(&b.task_id)));
        Ok(tasks)
    }

    /// Claims a pending task for the sweeper: sets `queuedAt` to `now` if the task is still pending and was not
    /// queued since the sweeper read it. `false` when something else changed it first.
    pub async fn claim_for_requeue(&self, task: &Task, now: &str) -> Result<bool, Error> {
        let (condition, previous) = match &task.queued_at {
            Some(previous) => ("#status = :pending AND queuedAt = :previous", s(previous)),
            None => ("#status = :pending AND attribute_not_exists(queuedAt)", AttributeValue::Null(true)),
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("taskId", s(&task.task_id))
            .update_expression("SET queuedAt = :now")
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(TaskStatus::Pending.as_str()))
            .expression_attribute_values(":now", s(now));
        if task.queued_at.is_some() {
            update = update.expression_attribute_values(":previous", previous);
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// A failed attempt: the task stays pending with `retries` and the error recorded. `None` when the task is
    /// missing or already final.
    pub async fn record_failure(&self, task_id: &str, retries: u32, message: &str) -> Result<Option<Task>, Error> {
        self.update_pending(task_id, TaskStatus::Pending, retries, Some(message)).await
    }

    /// The work succeeded after `retries` earlier attempts.
    pub async fn mark_success(&self, task_id: &str, retries: u32) -> Result<Option<Task>, Error> {
        self.update_pending(task_id, TaskStatus::Success, retries, None).await
    }

    /// The task reached the dead-letter queue: final error, keeping the last failure's message.
    pub async fn mark_error(&self, task_id: &str, fallback_message: &str) -> Result<Option<Task>, Error> {
        let Some(task) = self.get(task_id).await? else { return Ok(None) };
        if task.status.is_final() {
            return Ok(None);
        }
        let message = task.error_message.clone().unwrap_or_else(|| fallback_message.to_string());
        self.update_pending(task_id, TaskStatus::Error, task.retries, Some(&message)).await
    }

    async fn update_pending(
        &self,
        task_id: &str,
        status: TaskStatus,
        retries: u32,
        error_message: Option<&str>,
    ) -> Result<Option<Task>, Error> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("taskId", s(task_id))
            .update_expression("SET #status = :status, retries = :retries, errorMessage = :error")
            .condition_expression("attribute_exists(taskId) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":pending", s(TaskStatus::Pending.as_str()))
            .expression_attribute_values(":retries", AttributeValue::N(retries.to_string()))
            .expression_attribute_values(":error", error_message.map_or(AttributeValue::Null(true), s))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.attributes.map(serde_dynamo::from_item).transpose()?),
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// The ids of open WebSocket connections.
#[derive(Clone)]
pub struct ConnectionStore {
    client: Client,
    table: String,
}

impl ConnectionStore {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        Self { client: Client::new(config), table }
    }

    pub async fn add(&self, connection_id: &str) -> Result<(), Error> {
        let connected_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("connectionId", s(connection_id))
            .item("connectedAt", s(&connected_at))
            .send()
            .await?;
        Ok(())
    }

    pub async fn remove(&self, connection_id: &str) -> Result<(), Error> {
        self.client.delete_item().table_name(&self.table).key("connectionId", s(connection_id)).send().await?;
        Ok(())
    }

    pub async fn all(&self) -> Result<Vec<String>, Error> {
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .projection_expression("connectionId")
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            if let Some(AttributeValue::S(id)) = item?.get("connectionId") {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}
