//! Messages: what SendMessage takes ([`NewMessage`]), what a queue keeps (`Message`), what SendMessage and
//! ReceiveMessage answer ([`Sent`], [`Received`]), message attributes, and receipt handles.

use crate::aws::ACCOUNT_ID;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// A message attribute: `DataType` (`String`, `Number`, `Binary`, or those with a `.custom` suffix) and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub data_type: String,
    pub string: Option<String>,
    pub binary: Option<Vec<u8>>,
}

/// The one message system attribute a sender may set: an X-Ray trace header (`MessageSystemAttributes`).
pub const TRACE_HEADER: &str = "AWSTraceHeader";

/// A message to send: one SendMessage, or one entry of SendMessageBatch.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub body: String,
    pub attributes: BTreeMap<String, AttributeValue>,
    /// `MessageSystemAttributes`: [`TRACE_HEADER`] only.
    pub system_attributes: BTreeMap<String, AttributeValue>,
    /// `DelaySeconds`; the queue's delay when `None`.
    pub delay: Option<Duration>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
}

/// What SendMessage answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system_attributes: Option<String>,
    pub sequence_number: Option<String>,
}

/// A received message, as ReceiveMessage returns it.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub attributes: BTreeMap<String, AttributeValue>,
    /// System attributes (SentTimestamp, ApproximateReceiveCount, …), all of them.
    pub system: BTreeMap<String, String>,
}

/// What a message is from the moment it is sent; it stays so while the message is in a queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Content {
    pub id: String,
    pub body: String,
    pub attributes: BTreeMap<String, AttributeValue>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub sent_ms: u64,
    /// The sender's `AWSTraceHeader`.
    #[serde(default)]
    pub trace_header: Option<String>,
    /// The queue the message used up its receives in, once in that queue's dead-letter queue.
    #[serde(default)]
    pub dead_letter_source_arn: Option<String>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
}

/// A message in a queue: its content and how far its delivery has got.
#[derive(Debug, Clone)]
pub(super) struct Message {
    pub content: Content,
    /// When it may next be received (delay, then visibility timeout).
    pub available_at: Instant,
    pub expires_at: Instant,
    pub receive_count: u32,
    pub first_receive_ms: Option<u64>,
    /// The handle of the latest receive; only it deletes the message or changes its visibility.
    pub receipt: Option<String>,
}

impl Message {
    /// A message of `body`, as if sent just now to a standard queue and never received (the console's sample).
    pub(super) fn sent_now(body: &str) -> Self {
        let now = Instant::now();
        let content = Content {
            id: uuid::Uuid::new_v4().to_string(),
            body: body.to_string(),
            attributes: BTreeMap::new(),
            md5_body: super::digest::md5_of_body(body),
            md5_attributes: None,
            sent_ms: epoch_ms(),
            trace_header: None,
            dead_letter_source_arn: None,
            group_id: None,
            deduplication_id: None,
            sequence_number: None,
        };
        Self { content, available_at: now, expires_at: now, receive_count: 0, first_receive_ms: None, receipt: None }
    }

    /// The same message sent anew: a new id and sent time (a message move task's copy).
    pub(super) fn renewed(mut self) -> Self {
        self.content.id = uuid::Uuid::new_v4().to_string();
        self.content.sent_ms = epoch_ms();
        self
    }

    pub(super) fn is_held_by(&self, receipt: &str, message_id: &str) -> bool {
        self.content.id == message_id && self.receipt.as_deref() == Some(receipt)
    }

    /// Marks the message received now, hidden for `visibility`, and returns it as ReceiveMessage does.
    pub(super) fn receive(&mut self, now: Instant, visibility: Duration) -> Received {
        self.receive_count += 1;
        self.first_receive_ms.get_or_insert_with(epoch_ms);
        let receipt = receipt_handle(&self.content.id);
        self.receipt = Some(receipt.clone());
        self.available_at = now + visibility;
        Received {
            message_id: self.content.id.clone(),
            receipt_handle: receipt,
            body: self.content.body.clone(),
            md5_body: self.content.md5_body.clone(),
            md5_attributes: self.content.md5_attributes.clone(),
            attributes: self.content.attributes.clone(),
            system: self.system_attributes(),
        }
    }

    fn system_attributes(&self) -> BTreeMap<String, String> {
        let mut system = BTreeMap::new();
        system.insert("SenderId".to_string(), ACCOUNT_ID.to_string());
        system.insert("SentTimestamp".to_string(), self.content.sent_ms.to_string());
        system.insert("ApproximateReceiveCount".to_string(), self.receive_count.to_string());
        if let Some(first) = self.first_receive_ms {
            system.insert("ApproximateFirstReceiveTimestamp".to_string(), first.to_string());
        }
        if let Some(group) = &self.content.group_id {
            system.insert("MessageGroupId".to_string(), group.clone());
        }
        if let Some(dedup) = &self.content.deduplication_id {
            system.insert("MessageDeduplicationId".to_string(), dedup.clone());
        }
        if let Some(sequence) = &self.content.sequence_number {
            system.insert("SequenceNumber".to_string(), sequence.clone());
        }
        if let Some(trace) = &self.content.trace_header {
            system.insert(TRACE_HEADER.to_string(), trace.clone());
        }
        if let Some(source) = &self.content.dead_letter_source_arn {
            system.insert("DeadLetterQueueSourceArn".to_string(), source.clone());
        }
        system
    }
}

/// An opaque receipt handle that names its message and this receive.
fn receipt_handle(message_id: &str) -> String {
    let raw = format!("{message_id}#{}", uuid::Uuid::new_v4().simple());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The message a receipt handle names; `None` when it is no handle of ours.
pub(super) fn message_id_of(receipt: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(receipt.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.split_once('#').map(|(id, _)| id.to_string())
}

pub(super) use crate::aws::epoch_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_handle_names_its_message() {
        let handle = receipt_handle("4f1c");
        assert_eq!(message_id_of(&handle).as_deref(), Some("4f1c"));
        assert_eq!(message_id_of("garbage!"), None);
    }
}
