//! The task model and the wire formats the frontend relies on: task fields `taskId`, `answer`, `status`
//! (`pending` | `success` | `error`), `retries`, `errorMessage`, `createdAt`; pushes `{taskId, status, retries,
//! errorMessage?}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Pending,
    Success,
    Error,
}

impl TaskStatus {
    /// Success and error are final: a redelivered message never changes them.
    pub fn is_final(self) -> bool {
        self != TaskStatus::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Success => "success",
            TaskStatus::Error => "error",
        }
    }
}

/// A task as stored and as `GET /tasks` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    pub status: TaskStatus,
    pub retries: u32,
    pub answer: Option<String>,
    pub error_message: Option<String>,
    /// RFC 3339 with milliseconds, so the text sorts in time order.
    pub created_at: String,
    /// When the sweeper last queued the task again (RFC 3339); `None` until then, when `created_at` stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<String>,
}

impl Task {
    pub fn new(task_id: String, answer: Option<String>) -> Self {
        Self {
            task_id,
            status: TaskStatus::Pending,
            retries: 0,
            answer,
            error_message: None,
            created_at: timestamp(chrono::Utc::now()),
            queued_at: None,
        }
    }
}

/// A time as tasks store it: RFC 3339 with milliseconds, in UTC.
pub fn timestamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The body of `POST /tasks`. Other fields are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitRequest {
    pub task_id: Option<String>,
    pub answer: Option<String>,
}

impl SubmitRequest {
    /// Parses a request body; the error says what was wrong, for a 400.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err("the body must be a JSON object such as {\"answer\": \"42\"}".into());
        }
        let request: Self = serde_json::from_slice(body).map_err(|err| format!("invalid task: {err}"))?;
        if request.task_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            return Err("invalid task: taskId must not be empty".into());
        }
        Ok(request)
    }
}

/// What every connected browser receives when a task's status changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    pub task_id: String,
    pub status: TaskStatus,
    pub retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl From<&Task> for StatusUpdate {
    fn from(task: &Task) -> Self {
        Self {
            task_id: task.task_id.clone(),
            status: task.status,
            retries: task.retries,
            error_message: task.error_message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_ignores_extra_fields_and_rejects_wrong_types() {
        let request = SubmitRequest::parse(br#"{"answer":"42","colour":"blue"}"#).unwrap();
        assert_eq!((request.task_id, request.answer.as_deref()), (None, Some("42")));
        assert!(SubmitRequest::parse(br#"{"answer": 42}"#).unwrap_err().contains("invalid type"));
        assert!(SubmitRequest::parse(b"{not json").unwrap_err().starts_with("invalid task"));
        assert!(SubmitRequest::parse(b"").unwrap_err().contains("JSON object"));
        assert!(SubmitRequest::parse(br#"{"taskId":" "}"#).unwrap_err().contains("must not be empty"));
    }

    #[test]
    fn pushes_leave_out_a_missing_error_message() {
        let task = Task::new("t1".into(), None);
        let text = serde_json::to_string(&StatusUpdate::from(&task)).unwrap();
        assert_eq!(text, r#"{"taskId":"t1","status":"pending","retries":0}"#);
    }
}
