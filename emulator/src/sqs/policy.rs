//! The JSON documents a queue keeps as attributes: its access `Policy` (which AddPermission and RemovePermission
//! edit, statement by statement) and its `RedriveAllowPolicy` (which source queues may use it as their
//! dead-letter queue). Policies are kept, shown and edited, never enforced: every local caller is the owner.

use super::error::{ErrorCode, SqsError};
use serde_json::{json, Value};

/// The actions AddPermission may grant to another account (the SQS API reference, AddPermission `Actions`).
const GRANTABLE_ACTIONS: &[&str] = &[
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
];

/// Actions only the queue's owner may call: AddPermission refuses to grant them.
const OWNER_ACTIONS: &[&str] = &[
    "CreateQueue",
    "DeleteQueue",
    "AddPermission",
    "RemovePermission",
    "SetQueueAttributes",
    "ListQueues",
    "ListQueueTags",
    "TagQueue",
    "UntagQueue",
    "StartMessageMoveTask",
    "ListMessageMoveTasks",
    "CancelMessageMoveTask",
];

/// One statement of a policy may name at most seven actions (SQS quotas, "Policies").
const MAX_ACTIONS: usize = 7;

/// A permission AddPermission adds: `label` becomes the statement's `Sid`.
pub struct Permission<'a> {
    pub label: &'a str,
    pub accounts: &'a [String],
    pub actions: &'a [String],
}

/// The queue policy with `permission` added as one statement; `current` is the queue's policy, if any.
pub fn add_permission(current: Option<&Value>, queue_arn: &str, permission: &Permission) -> Result<Value, SqsError> {
    check_label(permission.label)?;
    if permission.accounts.is_empty() {
        return Err(SqsError::missing("AWSAccountIds"));
    }
    if permission.actions.is_empty() {
        return Err(SqsError::missing("ActionName"));
    }
    if permission.actions.len() > MAX_ACTIONS {
        return Err(SqsError::new(
            ErrorCode::OverLimit,
            format!("{} Actions were found, maximum allowed is {MAX_ACTIONS}.", permission.actions.len()),
        ));
    }
    if let Some(action) = permission.actions.iter().find(|a| !GRANTABLE_ACTIONS.contains(&a.as_str())) {
        let reason = if OWNER_ACTIONS.contains(&action.as_str()) {
            "Only the queue owner is allowed to invoke this action."
        } else {
            "Please refer to the appropriate WSDL for a list of valid actions."
        };
        return Err(SqsError::invalid(format!(
            "Value SQS:{action} for parameter ActionName is invalid. Reason: {reason}"
        )));
    }
    // The policy AWS writes (its version too: 2008-10-17, as recorded from SQS).
    let mut policy = current.cloned().unwrap_or_else(
        || json!({ "Version": "2008-10-17", "Id": format!("{queue_arn}/SQSDefaultPolicy"), "Statement": [] }),
    );
    let statements = statements(&mut policy);
    if statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(permission.label)) {
        return Err(SqsError::invalid(format!(
            "Value {} for parameter Label is invalid. Reason: Already exists.",
            permission.label
        )));
    }
    let principals: Vec<String> =
        permission.accounts.iter().map(|account| crate::aws::names::account_root_arn(account)).collect();
    let actions: Vec<String> = permission.actions.iter().map(|action| format!("SQS:{action}")).collect();
    statements.push(json!({
        "Sid": permission.label,
        "Effect": "Allow",
        "Principal": { "AWS": one_or_many(principals) },
        "Action": one_or_many(actions),
        "Resource": queue_arn,
    }));
    Ok(policy)
}

/// The queue policy without the statement labelled `label`; `None` when no statement is left.
pub fn remove_permission(current: Option<&Value>, label: &str) -> Result<Option<Value>, SqsError> {
    let not_found = |where_: &str| {
        SqsError::invalid(format!("Value {label} for parameter Label is invalid. Reason: can't find label{where_}."))
    };
    let mut policy = current.cloned().ok_or_else(|| not_found(""))?;
    let statements = statements(&mut policy);
    let before = statements.len();
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
    if statements.len() == before {
        return Err(not_found(" on existing policy"));
    }
    Ok((!statements.is_empty()).then_some(policy))
}

/// A policy's statements as a list (a single statement object becomes a list of one).
fn statements(policy: &mut Value) -> &mut Vec<Value> {
    let object = policy.as_object_mut().expect("a policy is a JSON object");
    let entry = object.entry("Statement").or_insert_with(|| json!([]));
    if !entry.is_array() {
        *entry = json!([entry.take()]);
    }
    entry.as_array_mut().expect("made a list above")
}

/// A single value as itself, several as a list, as AWS writes principals and actions.
fn one_or_many(mut values: Vec<String>) -> Value {
    if values.len() == 1 {
        json!(values.remove(0))
    } else {
        json!(values)
    }
}

fn check_label(label: &str) -> Result<(), SqsError> {
    let valid =
        (1..=80).contains(&label.len()) && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        return Ok(());
    }
    Err(SqsError::invalid(format!(
        "Value {label} for parameter Label is invalid. Reason: Must be 1 to 80 alphanumeric characters, hyphens or underscores."
    )))
}

/// A `Policy` attribute's value: any JSON object.
pub fn parse_policy(text: &str) -> Result<Value, SqsError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(SqsError::invalid_attribute("Invalid value for the parameter Policy.")),
    }
}

/// Which source queues may name a queue as their dead-letter queue (`RedriveAllowPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RedriveAllow {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

/// `byQueue` names at most 10 source queues (CreateQueue, `RedriveAllowPolicy`).
const MAX_REDRIVE_SOURCES: usize = 10;

impl RedriveAllow {
    pub fn parse(text: &str) -> Result<Self, SqsError> {
        let invalid = |reason: &str| {
            SqsError::invalid_attribute(format!(
                "Value {text} for parameter RedriveAllowPolicy is invalid. Reason: {reason}"
            ))
        };
        let value: Value = serde_json::from_str(text).map_err(|_| invalid("Invalid JSON."))?;
        let sources = value.get("sourceQueueArns");
        match value.get("redrivePermission").and_then(Value::as_str) {
            Some("allowAll") if sources.is_none() => Ok(Self::AllowAll),
            Some("denyAll") if sources.is_none() => Ok(Self::DenyAll),
            Some("allowAll" | "denyAll") => Err(invalid("Only byQueue redrivePermission can have sourceQueueArns.")),
            Some("byQueue") => {
                let arns: Vec<String> = sources
                    .and_then(Value::as_array)
                    .map(|list| list.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                if arns.is_empty() || arns.len() > MAX_REDRIVE_SOURCES {
                    return Err(invalid("byQueue redrivePermission needs 1 to 10 sourceQueueArns."));
                }
                Ok(Self::ByQueue(arns))
            }
            _ => Err(invalid("redrivePermission must be allowAll, denyAll or byQueue.")),
        }
    }

    /// As GetQueueAttributes shows it.
    pub fn to_json(&self) -> String {
        match self {
            Self::AllowAll => json!({ "redrivePermission": "allowAll" }),
            Self::DenyAll => json!({ "redrivePermission": "denyAll" }),
            Self::ByQueue(arns) => json!({ "redrivePermission": "byQueue", "sourceQueueArns": arns }),
        }
        .to_string()
    }

    /// Whether the queue `source_arn` may use this queue as its dead-letter queue.
    pub fn allows(&self, source_arn: &str) -> bool {
        match self {
            Self::AllowAll => true,
            Self::DenyAll => false,
            Self::ByQueue(arns) => arns.iter().any(|arn| arn == source_arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sqs:eu-north-1:000000000000:q";

    #[test]
    fn permissions_are_statements_added_and_removed_by_label() {
        let accounts = ["111111111111".to_string()];
        let actions = ["SendMessage".to_string()];
        let permission = Permission { label: "send", accounts: &accounts, actions: &actions };
        let policy = add_permission(None, ARN, &permission).unwrap();
        assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
        assert_eq!(policy["Statement"][0]["Action"], "SQS:SendMessage");
        assert_eq!(add_permission(Some(&policy), ARN, &permission).unwrap_err().code, ErrorCode::InvalidParameterValue);
        assert_eq!(remove_permission(Some(&policy), "send").unwrap(), None);
        assert!(remove_permission(Some(&policy), "other").is_err());
    }

    #[test]
    fn redrive_allow_policies_parse_and_show_the_same() {
        let text = r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:eu-north-1:000000000000:a"]}"#;
        let policy = RedriveAllow::parse(text).unwrap();
        assert!(policy.allows("arn:aws:sqs:eu-north-1:000000000000:a") && !policy.allows(ARN));
        assert_eq!(RedriveAllow::parse(&policy.to_json()).unwrap(), policy);
        assert!(RedriveAllow::parse(r#"{"redrivePermission":"sometimes"}"#).is_err());
    }
}
