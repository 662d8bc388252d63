//! Messages: what SendMessage takes ([`NewMessage`]), what SendMessage and ReceiveMessage answer ([`Sent`],
//! [`Received`]), and message attributes.

use std::collections::BTreeMap;
use std::time::Duration;

/// A message attribute: `DataType` (`String`, `Number`, `Binary`, or those with a `.custom` suffix) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    pub data_type: String,
    pub string: Option<String>,
    pub binary: Option<Vec<u8>>,
}

/// A message to send: one SendMessage, or one entry of SendMessageBatch.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub body: String,
    pub attributes: BTreeMap<String, AttributeValue>,
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
