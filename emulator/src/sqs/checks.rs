//! What SQS refuses before anything is queued: a message's delay, attributes, size and characters; the FIFO
//! fields (group and deduplication ids) and how a FIFO queue deduplicates; batch entry ids; queue names; tags. Each
//! error is worded as SQS words it (the SQS API reference, SendMessage and SendMessageBatch).

use super::digest::sha256_of_body;
use super::error::{ErrorCode, SqsError};
use super::message::{AttributeValue, NewMessage, TRACE_HEADER};
use super::settings::{DeduplicationScope, QueueSettings};
use crate::aws::sqs as limits;
use std::collections::{BTreeMap, HashSet};

/// SQS's checks of a message before it is queued: delay, attributes, size, body.
pub fn check_message(message: &NewMessage, settings: &QueueSettings) -> Result<(), SqsError> {
    if let Some(delay) = message.delay.map(|d| d.as_secs()).filter(|d| *d > limits::MAX_DELAY_SECONDS) {
        return Err(SqsError::invalid(format!(
            "Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )));
    }
    check_attributes(&message.attributes)?;
    check_system_attributes(&message.system_attributes)?;
    if message_size(message) > settings.max_message_size {
        return Err(SqsError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
            settings.max_message_size
        )));
    }
    if message.body.is_empty() {
        return Err(SqsError::missing("MessageBody"));
    }
    if message.body.chars().any(|c| !valid_message_char(c)) {
        // Since 2025 SQS rejects such a message (earlier it replaced the characters with U+FFFD).
        return Err(SqsError::new(ErrorCode::InvalidMessageContents, "Invalid binary character in the message body: SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"));
    }
    Ok(())
}

/// The body and every attribute's name, type and value count towards the size limit.
fn message_size(message: &NewMessage) -> usize {
    let attributes = message.attributes.iter().map(|(name, value)| {
        name.len()
            + value.data_type.len()
            + value.string.as_ref().map_or(0, String::len)
            + value.binary.as_ref().map_or(0, Vec::len)
    });
    message.body.len() + attributes.sum::<usize>()
}

/// Message attributes: names as SQS allows them (SendMessage, `MessageAttributes`), types with their values.
fn check_attributes(attributes: &BTreeMap<String, AttributeValue>) -> Result<(), SqsError> {
    if attributes.len() > limits::MAX_MESSAGE_ATTRIBUTES {
        return Err(SqsError::invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{}].",
            attributes.len(),
            limits::MAX_MESSAGE_ATTRIBUTES
        )));
    }
    for (name, value) in attributes {
        check_attribute_name(name)?;
        check_attribute_value(name, value)?;
    }
    Ok(())
}

/// A message attribute's type (`String`, `Number` or `Binary`, with an optional `.suffix`) and its value, worded
/// as SQS words its refusals (messages recorded from SQS).
fn check_attribute_value(name: &str, value: &AttributeValue) -> Result<(), SqsError> {
    let base = value.data_type.split('.').next().unwrap_or_default();
    let empty = |kind: &str| {
        SqsError::invalid(format!("Message (user) attribute '{name}' must contain a non-empty value of type '{kind}'."))
    };
    match base {
        "String" | "Number" => {
            let text = value.string.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| empty(base))?;
            if base == "Number" && text.trim().parse::<f64>().is_err() {
                return Err(SqsError::invalid(format!(
                    "Can't cast the value of message (user) attribute '{name}' to a number."
                )));
            }
            Ok(())
        }
        "Binary" => value.binary.as_ref().filter(|b| !b.is_empty()).map(|_| ()).ok_or_else(|| empty("Binary")),
        _ => Err(SqsError::invalid(format!(
            "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        ))),
    }
}

/// A message attribute name: up to 256 of `A-Za-z0-9_-.`, no leading, trailing or doubled period, and not in
/// the `AWS.` and `Amazon.` namespaces (any case).
fn check_attribute_name(name: &str) -> Result<(), SqsError> {
    let lower = name.to_ascii_lowercase();
    let reason = if name.is_empty() || name.len() > limits::MAX_ATTRIBUTE_NAME_BYTES {
        Some("Message attribute name must be 1 to 256 characters long.")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        Some("Message attribute name can only contain alphanumeric characters, hyphens, underscores and periods.")
    } else if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        Some("Message attribute name can not start or end with a period, or have two periods in a row.")
    } else if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        Some("Message attribute names starting with 'AWS.' or 'Amazon.' are reserved for use by Amazon.")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SqsError::invalid(format!("Message attribute name '{name}' is invalid. Reason: {reason}"))),
        None => Ok(()),
    }
}

/// `MessageSystemAttributes`: only [`TRACE_HEADER`], a String.
fn check_system_attributes(attributes: &BTreeMap<String, AttributeValue>) -> Result<(), SqsError> {
    for (name, value) in attributes {
        if name != TRACE_HEADER {
            return Err(SqsError::invalid(format!(
                "Message system attribute name '{name}' is invalid. Reason: only {TRACE_HEADER} may be sent."
            )));
        }
        if value.data_type != "String" || value.string.is_none() {
            return Err(SqsError::invalid(format!(
                "Message system attribute '{TRACE_HEADER}' must have DataType String and a StringValue."
            )));
        }
    }
    Ok(())
}

fn valid_message_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The FIFO fields of a message bound for a FIFO queue.
pub struct FifoFields {
    pub group_id: String,
    /// Explicit, or the SHA-256 of the body with content-based deduplication.
    pub deduplication_id: String,
}

impl FifoFields {
    /// What a deduplication id is unique within: the queue, or its message group.
    pub fn deduplication_key(&self, scope: DeduplicationScope) -> String {
        Self::key(scope, &self.group_id, &self.deduplication_id)
    }

    pub fn key(scope: DeduplicationScope, group_id: &str, deduplication_id: &str) -> String {
        match scope {
            DeduplicationScope::Queue => deduplication_id.to_string(),
            DeduplicationScope::MessageGroup => format!("{group_id}\n{deduplication_id}"),
        }
    }
}

/// The group and deduplication ids of a message for a FIFO queue (`None` for a standard queue), with SQS's
/// checks: a FIFO message needs a group id and, without content-based deduplication, a deduplication id, and may
/// not set its own delay; a standard queue takes no deduplication id.
pub fn fifo_fields(message: &NewMessage, settings: &QueueSettings) -> Result<Option<FifoFields>, SqsError> {
    for (parameter, value) in
        [("MessageGroupId", &message.group_id), ("MessageDeduplicationId", &message.deduplication_id)]
    {
        if let Some(value) = value {
            check_fifo_id(parameter, value)?;
        }
    }
    if !settings.fifo {
        if message.deduplication_id.is_some() {
            return Err(SqsError::invalid(
                "The request include parameter that is not valid for this queue type. Reason: MessageDeduplicationId is only valid for FIFO queues.",
            ));
        }
        return Ok(None);
    }
    let group_id = message.group_id.clone().ok_or_else(|| SqsError::missing("MessageGroupId"))?;
    let deduplication_id = match (&message.deduplication_id, settings.content_based_deduplication) {
        (Some(id), _) => id.clone(),
        (None, true) => sha256_of_body(&message.body),
        (None, false) => {
            return Err(SqsError::invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"))
        }
    };
    if message.delay.is_some_and(|d| !d.is_zero()) {
        return Err(SqsError::invalid("Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."));
    }
    Ok(Some(FifoFields { group_id, deduplication_id }))
}

/// Group and deduplication ids: 1 to 128 printable ASCII characters (`!` to `~`).
fn check_fifo_id(parameter: &str, value: &str) -> Result<(), SqsError> {
    let valid =
        (1..=limits::MAX_FIFO_ID_CHARS).contains(&value.len()) && value.bytes().all(|b| (b'!'..=b'~').contains(&b));
    if valid {
        return Ok(());
    }
    Err(SqsError::invalid(format!(
        "Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include alphanumeric and punctuation characters. 1 to 128 in length."
    )))
}

/// A queue name: 1 to 80 of `A-Za-z0-9-_`, with `.fifo` exactly when the queue is FIFO.
pub fn check_queue_name(name: &str, fifo_attribute: bool) -> Result<(), SqsError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let valid =
        !base.is_empty() && name.len() <= 80 && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(SqsError::invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    if fifo_attribute != name.ends_with(".fifo") {
        return Err(SqsError::invalid("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."));
    }
    Ok(())
}

/// A batch's entry ids: 1 to 10 of them, each 1 to 80 of `A-Za-z0-9-_`, all different. `entry` names the
/// entries as the operation does (`SendMessageBatchRequestEntry`).
pub fn check_batch<'a>(entry: &str, ids: impl Iterator<Item = &'a String>) -> Result<(), SqsError> {
    let ids: Vec<&String> = ids.collect();
    if ids.is_empty() {
        return Err(SqsError::new(
            ErrorCode::EmptyBatchRequest,
            format!("There should be at least one {entry} in the request."),
        ));
    }
    if ids.len() > limits::MAX_BATCH {
        return Err(SqsError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are 10. You have sent {}.", ids.len()),
        ));
    }
    let valid = |id: &str| {
        (1..=limits::MAX_BATCH_ENTRY_ID_CHARS).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if ids.iter().any(|id| !valid(id)) {
        return Err(SqsError::new(
            ErrorCode::InvalidBatchEntryId,
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        ));
    }
    let mut seen = HashSet::new();
    match ids.into_iter().find(|id| !seen.insert(*id)) {
        Some(repeated) => Err(SqsError::new(ErrorCode::BatchEntryIdsNotDistinct, format!("Id {repeated} repeated."))),
        None => Ok(()),
    }
}

/// Tags: keys of 1 to 128 characters, values of up to 256, at most 50 on a queue. The error for too many says
/// "{queue}", which [`named_queue`] fills in.
pub(super) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
    use crate::aws::sqs::{MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
    if tags.len() > MAX_TAGS {
        return Err(SqsError::invalid("Too many tags added for queue {queue}."));
    }
    for (tag_key, value) in tags {
        if tag_key.is_empty() || tag_key.chars().count() > MAX_TAG_KEY_CHARS {
            return Err(SqsError::invalid(format!(
                "Tag keys must be between 1 and {MAX_TAG_KEY_CHARS} characters in length."
            )));
        }
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(SqsError::invalid(format!(
                "Tag values must be between 0 and {MAX_TAG_VALUE_CHARS} characters in length."
            )));
        }
    }
    Ok(())
}

pub(super) fn named_queue(mut error: SqsError, queue: &str) -> SqsError {
    error.message = error.message.replace("{queue}", queue);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_follow_sqs_rules() {
        for good in ["kind", "a.b-c_d", &"x".repeat(256)] {
            assert!(check_attribute_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".a", "a.", "a..b", "AWS.x", "amazon.y", "sp ace", &"x".repeat(257)] {
            assert!(check_attribute_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attribute_values_match_their_types() {
        let value = |data_type: &str, string: Option<&str>| AttributeValue {
            data_type: data_type.into(),
            string: string.map(String::from),
            binary: None,
        };
        assert!(check_attribute_value("a", &value("Number.int", Some("42"))).is_ok());
        let refused = |v: AttributeValue| check_attribute_value("a", &v).unwrap_err().message;
        assert_eq!(
            refused(value("Number", Some("forty"))),
            "Can't cast the value of message (user) attribute 'a' to a number."
        );
        assert_eq!(
            refused(value("String", Some(""))),
            "Message (user) attribute 'a' must contain a non-empty value of type 'String'."
        );
        assert!(refused(value("Text", Some("x"))).starts_with("The type of message (user) attribute 'a' is invalid."));
    }

    #[test]
    fn batch_ids_are_short_plain_and_distinct() {
        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_batch("E", ids(&["a-1", "B_2"]).iter()).is_ok());
        assert_eq!(check_batch("E", ids(&["a b"]).iter()).unwrap_err().code, ErrorCode::InvalidBatchEntryId);
        assert_eq!(check_batch("E", ids(&[&"x".repeat(81)]).iter()).unwrap_err().code, ErrorCode::InvalidBatchEntryId);
        assert_eq!(check_batch("E", ids(&["a", "a"]).iter()).unwrap_err().code, ErrorCode::BatchEntryIdsNotDistinct);
    }

    #[test]
    fn content_based_deduplication_ids_are_the_sha256_of_the_body() {
        let settings = QueueSettings { fifo: true, content_based_deduplication: true, ..QueueSettings::default() };
        let message = NewMessage { body: "hello".into(), group_id: Some("g".into()), ..NewMessage::default() };
        let fields = fifo_fields(&message, &settings).unwrap().unwrap();
        assert_eq!(fields.deduplication_id, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    }
}
