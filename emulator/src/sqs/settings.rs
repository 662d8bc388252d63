//! A queue's settings: the attributes CreateQueue and SetQueueAttributes set ([`Setting`], the one list of
//! them), parsed and checked against SQS's limits into [`QueueSettings`], and shown again as GetQueueAttributes
//! returns them.

use super::error::SqsError;
use crate::aws::sqs as limits;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The queue attributes the emulator keeps: what CreateQueue, SetQueueAttributes and an `AWS::SQS::Queue`
/// resource may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    VisibilityTimeout,
    MaximumMessageSize,
    MessageRetentionPeriod,
    DelaySeconds,
    ReceiveMessageWaitTimeSeconds,
    RedrivePolicy,
    FifoQueue,
    ContentBasedDeduplication,
}

impl Setting {
    pub const ALL: [Setting; 8] = [
        Self::VisibilityTimeout,
        Self::MaximumMessageSize,
        Self::MessageRetentionPeriod,
        Self::DelaySeconds,
        Self::ReceiveMessageWaitTimeSeconds,
        Self::RedrivePolicy,
        Self::FifoQueue,
        Self::ContentBasedDeduplication,
    ];

    /// The attribute's name in the SQS API and in CloudFormation.
    pub fn name(self) -> &'static str {
        match self {
            Self::VisibilityTimeout => "VisibilityTimeout",
            Self::MaximumMessageSize => "MaximumMessageSize",
            Self::MessageRetentionPeriod => "MessageRetentionPeriod",
            Self::DelaySeconds => "DelaySeconds",
            Self::ReceiveMessageWaitTimeSeconds => "ReceiveMessageWaitTimeSeconds",
            Self::RedrivePolicy => "RedrivePolicy",
            Self::FifoQueue => "FifoQueue",
            Self::ContentBasedDeduplication => "ContentBasedDeduplication",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setting| setting.name() == name)
    }
}

/// Attributes SQS takes that the emulator accepts and ignores (policies, encryption, FIFO throughput).
const IGNORED_ATTRIBUTES: &[&str] = &[
    "Policy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redrive {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// A queue's settable attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
    #[serde(with = "seconds")]
    pub visibility_timeout: Duration,
    #[serde(with = "seconds")]
    pub retention: Duration,
    #[serde(with = "seconds")]
    pub delay: Duration,
    #[serde(with = "seconds")]
    pub receive_wait: Duration,
    pub max_message_size: usize,
    pub redrive: Option<Redrive>,
    pub fifo: bool,
    pub content_based_deduplication: bool,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: limits::DEFAULT_VISIBILITY_TIMEOUT,
            retention: Duration::from_secs(limits::DEFAULT_RETENTION_SECONDS),
            delay: Duration::ZERO,
            receive_wait: Duration::ZERO,
            max_message_size: limits::MAX_MESSAGE_BYTES,
            redrive: None,
            fifo: false,
            content_based_deduplication: false,
        }
    }
}

impl QueueSettings {
    /// The settings of a new queue named `name` created with `attributes`: a `.fifo` name makes a FIFO queue.
    pub fn for_new_queue(name: &str, attributes: &BTreeMap<String, String>) -> Result<Self, SqsError> {
        let mut settings = Self { fifo: name.ends_with(".fifo"), ..Self::default() };
        settings.apply(attributes)?;
        Ok(settings)
    }

    /// Applies attributes as CreateQueue and SetQueueAttributes name them (all values are strings).
    pub fn apply(&mut self, attributes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        for (name, value) in attributes {
            match Setting::from_name(name) {
                Some(setting) => self.set(setting, value)?,
                None if IGNORED_ATTRIBUTES.contains(&name.as_str()) => {}
                None => return Err(SqsError::invalid_attribute(format!("Unknown Attribute {name}."))),
            }
        }
        Ok(())
    }

    fn set(&mut self, setting: Setting, value: &str) -> Result<(), SqsError> {
        let seconds = |max: u64| whole_number_up_to(setting, value, max);
        match setting {
            Setting::VisibilityTimeout => {
                self.visibility_timeout = Duration::from_secs(seconds(limits::MAX_VISIBILITY_TIMEOUT_SECONDS)?)
            }
            Setting::MessageRetentionPeriod => {
                let v = seconds(limits::MAX_RETENTION_SECONDS)?;
                if v < limits::MIN_RETENTION_SECONDS {
                    return Err(SqsError::invalid_attribute(format!(
                        "Invalid value for the parameter MessageRetentionPeriod: {v} (at least 60)"
                    )));
                }
                self.retention = Duration::from_secs(v);
            }
            Setting::DelaySeconds => self.delay = Duration::from_secs(seconds(limits::MAX_DELAY_SECONDS)?),
            Setting::ReceiveMessageWaitTimeSeconds => {
                self.receive_wait = Duration::from_secs(seconds(limits::MAX_WAIT_SECONDS)?)
            }
            Setting::MaximumMessageSize => {
                let v = seconds(limits::MAX_MESSAGE_BYTES as u64)?;
                if v < 1024 {
                    return Err(SqsError::invalid_attribute(
                        "Invalid value for the parameter MaximumMessageSize (at least 1024)",
                    ));
                }
                self.max_message_size = v as usize;
            }
            Setting::RedrivePolicy => self.redrive = if value.is_empty() { None } else { Some(parse_redrive(value)?) },
            Setting::FifoQueue => self.fifo = value == "true",
            Setting::ContentBasedDeduplication => self.content_based_deduplication = value == "true",
        }
        Ok(())
    }

    /// A setting's value as GetQueueAttributes returns it; `None` when SQS leaves it out (no redrive policy; the
    /// FIFO attributes of a standard queue).
    pub fn value(&self, setting: Setting) -> Option<String> {
        match setting {
            Setting::VisibilityTimeout => Some(self.visibility_timeout.as_secs().to_string()),
            Setting::MaximumMessageSize => Some(self.max_message_size.to_string()),
            Setting::MessageRetentionPeriod => Some(self.retention.as_secs().to_string()),
            Setting::DelaySeconds => Some(self.delay.as_secs().to_string()),
            Setting::ReceiveMessageWaitTimeSeconds => Some(self.receive_wait.as_secs().to_string()),
            Setting::RedrivePolicy => self.redrive.as_ref().map(|redrive| {
                serde_json::json!({"deadLetterTargetArn": redrive.dead_letter_target_arn, "maxReceiveCount": redrive.max_receive_count})
                    .to_string()
            }),
            Setting::FifoQueue => self.fifo.then(|| "true".to_string()),
            Setting::ContentBasedDeduplication => self.fifo.then(|| self.content_based_deduplication.to_string()),
        }
    }
}

/// A number of seconds (or bytes) from 0 to `max`.
fn whole_number_up_to(setting: Setting, value: &str, max: u64) -> Result<u64, SqsError> {
    value.parse::<u64>().ok().filter(|v| *v <= max).ok_or_else(|| {
        SqsError::invalid_attribute(format!(
            "Invalid value for the parameter {}: {value} (expected 0 to {max})",
            setting.name()
        ))
    })
}

fn parse_redrive(text: &str) -> Result<Redrive, SqsError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| SqsError::invalid_attribute(format!("Invalid value for the parameter RedrivePolicy: {text}")))?;
    let arn = value.get("deadLetterTargetArn").and_then(|v| v.as_str()).map(String::from);
    let count =
        value.get("maxReceiveCount").and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    match (arn, count) {
        (Some(dead_letter_target_arn), Some(count)) if (1..=1000).contains(&count) => {
            Ok(Redrive { dead_letter_target_arn, max_receive_count: count as u32 })
        }
        _ => Err(SqsError::invalid_attribute("Value for parameter RedrivePolicy is invalid: it needs deadLetterTargetArn and maxReceiveCount (1 to 1000).")),
    }
}

/// Durations as whole seconds in the durable file, as SQS counts them.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_named_once_and_found_by_its_name() {
        for setting in Setting::ALL {
            assert_eq!(Setting::from_name(setting.name()), Some(setting));
        }
        assert_eq!(Setting::from_name("Policy"), None);
    }

    #[test]
    fn what_get_queue_attributes_shows_applies_back_to_the_same_settings() {
        let attributes = BTreeMap::from([
            ("VisibilityTimeout".to_string(), "7".to_string()),
            ("RedrivePolicy".to_string(), r#"{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":"3"}"#.to_string()),
            ("ContentBasedDeduplication".to_string(), "true".to_string()),
        ]);
        let settings = QueueSettings::for_new_queue("q.fifo", &attributes).unwrap();
        let shown: BTreeMap<String, String> =
            Setting::ALL.into_iter().filter_map(|s| Some((s.name().to_string(), settings.value(s)?))).collect();
        assert_eq!(QueueSettings::for_new_queue("q.fifo", &shown).unwrap(), settings);
    }

    #[test]
    fn out_of_range_and_unknown_attributes_are_refused() {
        let refused = |name: &str, value: &str| {
            let attributes = BTreeMap::from([(name.to_string(), value.to_string())]);
            QueueSettings::default().apply(&attributes).unwrap_err().message
        };
        assert_eq!(
            refused("DelaySeconds", "901"),
            "Invalid value for the parameter DelaySeconds: 901 (expected 0 to 900)"
        );
        assert_eq!(refused("Colour", "blue"), "Unknown Attribute Colour.");
        assert!(QueueSettings::default().apply(&BTreeMap::from([("Policy".into(), "{}".into())])).is_ok());
    }
}
