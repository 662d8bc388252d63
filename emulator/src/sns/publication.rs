//! A message to publish ([`Publication`]) and what SNS refuses before accepting one: the size, the subject, a
//! structured message without `default`, message attributes of unknown types, and FIFO's group and
//! deduplication ids.

use super::error::{ErrorCode, SnsError};
use super::topic::Topic;
use crate::aws::sns::{MAX_MESSAGE_BYTES, MAX_SUBJECT_CHARS};
use crate::sqs::message::AttributeValue;
use serde_json::Value;
use std::collections::BTreeMap;

/// One Publish, or one entry of PublishBatch.
#[derive(Debug, Clone, Default)]
pub struct Publication {
    pub message: String,
    pub subject: Option<String>,
    /// `MessageStructure=json`.
    pub structured: bool,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

impl Publication {
    /// Checks everything that does not depend on the topic.
    pub fn check(&self) -> Result<(), SnsError> {
        if self.message.is_empty() {
            return Err(SnsError::invalid("Empty message"));
        }
        let attribute_bytes: usize = self
            .attributes
            .iter()
            .map(|(name, value)| {
                name.len()
                    + value.data_type.len()
                    + value.string.as_ref().map_or(0, String::len)
                    + value.binary.as_ref().map_or(0, Vec::len)
            })
            .sum();
        if self.message.len() + attribute_bytes > MAX_MESSAGE_BYTES {
            return Err(SnsError::invalid("Message too long"));
        }
        if let Some(subject) = &self.subject {
            let printable = subject.chars().all(|c| !c.is_control());
            if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS || !printable {
                return Err(SnsError::invalid("Subject"));
            }
        }
        if self.structured {
            check_structure(&self.message)?;
        }
        self.attributes.iter().try_for_each(|(name, value)| check_attribute(name, value))
    }

    /// Checks the FIFO ids against the topic's kind: the deduplication id this message is deduplicated by
    /// (`None` for a standard topic).
    pub fn deduplication_for(&self, topic: &Topic) -> Result<Option<String>, SnsError> {
        if !topic.fifo {
            if self.deduplication_id.is_some() {
                return Err(SnsError::invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"));
            }
            return Ok(None);
        }
        if self.group_id.as_deref().is_none_or(str::is_empty) {
            return Err(SnsError::invalid("The MessageGroupId parameter is required for FIFO topics"));
        }
        match &self.deduplication_id {
            Some(id) => Ok(Some(id.clone())),
            None if topic.content_based_deduplication => Ok(Some(crate::sqs::digest::sha256_of_body(&self.message))),
            None => Err(SnsError::invalid(
                "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            )),
        }
    }
}

fn check_structure(message: &str) -> Result<(), SnsError> {
    let Ok(Value::Object(messages)) = serde_json::from_str::<Value>(message) else {
        return Err(SnsError::invalid("Message Structure - JSON message body failed to parse"));
    };
    if !messages.get("default").is_some_and(Value::is_string) {
        return Err(SnsError::invalid("Message Structure - No default entry in JSON message body"));
    }
    Ok(())
}

/// A message attribute's type and value, as Publish checks them (SNS developer guide, "Message attribute data
/// types": String, String.Array, Number and Binary, optionally with a custom suffix).
fn check_attribute(name: &str, value: &AttributeValue) -> Result<(), SnsError> {
    let invalid = |message: String| SnsError::new(ErrorCode::InvalidParameterValue, message);
    let kind = value.data_type.split('.').next().unwrap_or_default();
    if !["String", "Number", "Binary"].contains(&kind) {
        return Err(invalid(format!(
            "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )));
    }
    let present =
        if kind == "Binary" { value.binary.is_some() } else { value.string.as_deref().is_some_and(|s| !s.is_empty()) };
    if !present {
        return Err(invalid(format!(
            "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{kind}'."
        )));
    }
    let text = value.string.as_deref().unwrap_or_default();
    if kind == "Number" && text.trim().parse::<f64>().is_err() {
        return Err(invalid(format!("Could not cast message attribute '{name}' value to number.")));
    }
    if value.data_type == "String.Array" && !serde_json::from_str::<Value>(text).is_ok_and(|v| v.is_array()) {
        return Err(invalid(format!(
            "The message attribute '{name}' with type 'String.Array' has an invalid value: it must be a JSON array."
        )));
    }
    Ok(())
}
