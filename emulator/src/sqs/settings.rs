//! A queue's settings: the attributes CreateQueue and SetQueueAttributes set ([`Setting`], the one list of
//! them), parsed and checked against SQS's limits into [`QueueSettings`], and shown again as GetQueueAttributes
//! returns them. Checks that need other queues (a redrive policy's target) are the service's.

use super::error::{ErrorCode, SqsError};
use super::policy::{parse_policy, RedriveAllow};
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
    RedriveAllowPolicy,
    Policy,
    KmsMasterKeyId,
    KmsDataKeyReusePeriodSeconds,
    SqsManagedSseEnabled,
    FifoQueue,
    ContentBasedDeduplication,
    DeduplicationScope,
    FifoThroughputLimit,
}

impl Setting {
    pub const ALL: [Setting; 15] = [
        Self::VisibilityTimeout,
        Self::MaximumMessageSize,
        Self::MessageRetentionPeriod,
        Self::DelaySeconds,
        Self::ReceiveMessageWaitTimeSeconds,
        Self::RedrivePolicy,
        Self::RedriveAllowPolicy,
        Self::Policy,
        Self::KmsMasterKeyId,
        Self::KmsDataKeyReusePeriodSeconds,
        Self::SqsManagedSseEnabled,
        Self::FifoQueue,
        Self::ContentBasedDeduplication,
        Self::DeduplicationScope,
        Self::FifoThroughputLimit,
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
            Self::RedriveAllowPolicy => "RedriveAllowPolicy",
            Self::Policy => "Policy",
            Self::KmsMasterKeyId => "KmsMasterKeyId",
            Self::KmsDataKeyReusePeriodSeconds => "KmsDataKeyReusePeriodSeconds",
            Self::SqsManagedSseEnabled => "SqsManagedSseEnabled",
            Self::FifoQueue => "FifoQueue",
            Self::ContentBasedDeduplication => "ContentBasedDeduplication",
            Self::DeduplicationScope => "DeduplicationScope",
            Self::FifoThroughputLimit => "FifoThroughputLimit",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setting| setting.name() == name)
    }

    /// Attributes of FIFO queues only: a standard queue does not know them.
    pub fn fifo_only(self) -> bool {
        matches!(
            self,
            Self::FifoQueue | Self::ContentBasedDeduplication | Self::DeduplicationScope | Self::FifoThroughputLimit
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redrive {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// Where FIFO deduplication ids are unique: in the whole queue (the default) or per message group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeduplicationScope {
    #[default]
    Queue,
    MessageGroup,
}

/// What a FIFO queue's throughput quota counts: the whole queue (the default) or each message group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThroughputLimit {
    #[default]
    PerQueue,
    PerMessageGroupId,
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
    #[serde(default)]
    pub redrive_allow: Option<RedriveAllow>,
    /// The access policy: kept and shown, not enforced.
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    #[serde(default)]
    pub encryption: Encryption,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    #[serde(default)]
    pub deduplication_scope: DeduplicationScope,
    #[serde(default)]
    pub throughput_limit: ThroughputLimit,
}

/// Server-side encryption: SQS-managed keys (on by default for new queues since 2022) or a KMS key. Messages are
/// not encrypted locally; the settings are kept and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    pub sqs_managed: bool,
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_seconds: u64,
}

impl Default for Encryption {
    fn default() -> Self {
        Self {
            sqs_managed: true,
            kms_master_key_id: None,
            kms_data_key_reuse_seconds: limits::DEFAULT_KMS_REUSE_SECONDS,
        }
    }
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
            redrive_allow: None,
            policy: None,
            encryption: Encryption::default(),
            fifo: false,
            content_based_deduplication: false,
            deduplication_scope: DeduplicationScope::default(),
            throughput_limit: ThroughputLimit::default(),
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

    /// The settings named in `attributes`, checked: an unknown name (or a FIFO attribute of a standard queue) is
    /// `InvalidAttributeName`, a bad value `InvalidAttributeValue`.
    pub fn settings_named(&self, attributes: &BTreeMap<String, String>) -> Result<Vec<Setting>, SqsError> {
        attributes
            .keys()
            .map(|name| match Setting::from_name(name) {
                Some(setting) if self.fifo || !setting.fifo_only() => Ok(setting),
                // As SQS words these two for a standard queue.
                Some(Setting::DeduplicationScope | Setting::FifoThroughputLimit) => Err(SqsError::new(
                    ErrorCode::InvalidAttributeName,
                    format!("You can specify the {name} only when FifoQueue is set to true."),
                )),
                _ => Err(SqsError::invalid_attribute_name(name)),
            })
            .collect()
    }

    /// Applies attributes as CreateQueue and SetQueueAttributes name them (all values are strings).
    pub fn apply(&mut self, attributes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        let named = self.settings_named(attributes)?;
        let kms = attributes.get(Setting::KmsMasterKeyId.name()).is_some_and(|key| !key.is_empty());
        if kms && attributes.get(Setting::SqsManagedSseEnabled.name()).is_some_and(|v| v == "true") {
            return Err(SqsError::new(
                ErrorCode::InvalidAttributeName,
                "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
            ));
        }
        for (setting, value) in named.into_iter().zip(attributes.values()) {
            self.set(setting, value)?;
        }
        if self.throughput_limit == ThroughputLimit::PerMessageGroupId
            && self.deduplication_scope != DeduplicationScope::MessageGroup
        {
            return Err(SqsError::invalid_attribute(
                "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup",
            ));
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
                    return Err(invalid_value(setting));
                }
                self.retention = Duration::from_secs(v);
            }
            Setting::DelaySeconds => self.delay = Duration::from_secs(seconds(limits::MAX_DELAY_SECONDS)?),
            Setting::ReceiveMessageWaitTimeSeconds => {
                self.receive_wait = Duration::from_secs(seconds(limits::MAX_WAIT_SECONDS)?)
            }
            Setting::MaximumMessageSize => {
                let v = seconds(limits::MAX_MESSAGE_BYTES as u64)?;
                if v < limits::MIN_MAXIMUM_MESSAGE_SIZE {
                    return Err(invalid_value(setting));
                }
                self.max_message_size = v as usize;
            }
            Setting::RedrivePolicy => self.redrive = if value.is_empty() { None } else { Some(parse_redrive(value)?) },
            Setting::RedriveAllowPolicy => {
                self.redrive_allow = if value.is_empty() { None } else { Some(RedriveAllow::parse(value)?) }
            }
            Setting::Policy => self.policy = if value.is_empty() { None } else { Some(parse_policy(value)?) },
            Setting::KmsMasterKeyId => {
                self.encryption.kms_master_key_id = (!value.is_empty()).then(|| value.to_string());
                if self.encryption.kms_master_key_id.is_some() {
                    self.encryption.sqs_managed = false;
                }
            }
            Setting::KmsDataKeyReusePeriodSeconds => {
                let v = seconds(limits::MAX_KMS_REUSE_SECONDS)?;
                if v < limits::MIN_KMS_REUSE_SECONDS {
                    return Err(invalid_value(setting));
                }
                self.encryption.kms_data_key_reuse_seconds = v;
            }
            Setting::SqsManagedSseEnabled => {
                self.encryption.sqs_managed = boolean(setting, value)?;
                if self.encryption.sqs_managed {
                    self.encryption.kms_master_key_id = None;
                }
            }
            Setting::FifoQueue => {
                if boolean(setting, value)? != self.fifo {
                    return Err(SqsError::invalid_attribute(
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
                    ));
                }
            }
            Setting::ContentBasedDeduplication => self.content_based_deduplication = boolean(setting, value)?,
            Setting::DeduplicationScope => {
                self.deduplication_scope = match value {
                    "queue" => DeduplicationScope::Queue,
                    "messageGroup" => DeduplicationScope::MessageGroup,
                    _ => return Err(invalid_value(setting)),
                }
            }
            Setting::FifoThroughputLimit => {
                self.throughput_limit = match value {
                    "perQueue" => ThroughputLimit::PerQueue,
                    "perMessageGroupId" => ThroughputLimit::PerMessageGroupId,
                    _ => return Err(invalid_value(setting)),
                }
            }
        }
        Ok(())
    }

    /// A setting's value as GetQueueAttributes returns it; `None` when SQS leaves it out (no redrive or access
    /// policy, no KMS key; the FIFO attributes of a standard queue).
    pub fn value(&self, setting: Setting) -> Option<String> {
        let fifo = |value: String| self.fifo.then_some(value);
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
            Setting::RedriveAllowPolicy => self.redrive_allow.as_ref().map(RedriveAllow::to_json),
            Setting::Policy => self.policy.as_ref().map(serde_json::Value::to_string),
            Setting::KmsMasterKeyId => self.encryption.kms_master_key_id.clone(),
            Setting::KmsDataKeyReusePeriodSeconds => self
                .encryption
                .kms_master_key_id
                .as_ref()
                .map(|_| self.encryption.kms_data_key_reuse_seconds.to_string()),
            Setting::SqsManagedSseEnabled => Some(self.encryption.sqs_managed.to_string()),
            Setting::FifoQueue => fifo("true".to_string()),
            Setting::ContentBasedDeduplication => fifo(self.content_based_deduplication.to_string()),
            Setting::DeduplicationScope => fifo(
                match self.deduplication_scope {
                    DeduplicationScope::Queue => "queue",
                    DeduplicationScope::MessageGroup => "messageGroup",
                }
                .to_string(),
            ),
            Setting::FifoThroughputLimit => fifo(
                match self.throughput_limit {
                    ThroughputLimit::PerQueue => "perQueue",
                    ThroughputLimit::PerMessageGroupId => "perMessageGroupId",
                }
                .to_string(),
            ),
        }
    }

    /// Whether `setting` means the same in both: JSON documents compare parsed (key order and spacing aside),
    /// the rest as GetQueueAttributes would show them.
    pub fn agrees_with(&self, other: &QueueSettings, setting: Setting) -> bool {
        match setting {
            Setting::Policy => self.policy == other.policy,
            Setting::RedrivePolicy => self.redrive == other.redrive,
            Setting::RedriveAllowPolicy => self.redrive_allow == other.redrive_allow,
            _ => self.value(setting) == other.value(setting),
        }
    }
}

/// `Invalid value for the parameter <name>.`, as SQS words a bad attribute value.
fn invalid_value(setting: Setting) -> SqsError {
    SqsError::invalid_attribute(format!("Invalid value for the parameter {}.", setting.name()))
}

/// `true` or `false`.
fn boolean(setting: Setting, value: &str) -> Result<bool, SqsError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_value(setting)),
    }
}

/// A number of seconds (or bytes) from 0 to `max`.
fn whole_number_up_to(setting: Setting, value: &str, max: u64) -> Result<u64, SqsError> {
    value.parse::<u64>().ok().filter(|v| *v <= max).ok_or_else(|| invalid_value(setting))
}

/// A RedrivePolicy: `deadLetterTargetArn` and `maxReceiveCount` (1 to 1000, a number or a numeric string).
fn parse_redrive(text: &str) -> Result<Redrive, SqsError> {
    let invalid = |reason: String| {
        SqsError::invalid(format!("Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"))
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| invalid("Redrive policy is not a valid JSON map.".into()))?;
    let arn = value.get("deadLetterTargetArn").and_then(|v| v.as_str()).map(String::from);
    let count = value.get("maxReceiveCount");
    let number = count.and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    match (arn, number) {
        (None, _) => Err(invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.".into())),
        (_, None) if count.is_none() => {
            Err(invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.".into()))
        }
        (Some(dead_letter_target_arn), Some(count)) if (1..=1000).contains(&count) => {
            Ok(Redrive { dead_letter_target_arn, max_receive_count: count as u32 })
        }
        _ => Err(invalid(format!(
            "Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
            count.map(|c| c.as_str().map_or_else(|| c.to_string(), String::from)).unwrap_or_default()
        ))),
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
        assert_eq!(Setting::from_name("QueueArn"), None);
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
        assert_eq!(refused("DelaySeconds", "901"), "Invalid value for the parameter DelaySeconds.");
        assert_eq!(refused("Colour", "blue"), "Unknown Attribute Colour.");
        assert!(QueueSettings::default().apply(&BTreeMap::from([("Policy".into(), "{}".into())])).is_ok());
        assert_eq!(refused("ContentBasedDeduplication", "true"), "Unknown Attribute ContentBasedDeduplication.");
    }

    #[test]
    fn json_attributes_agree_when_equal_in_meaning() {
        let compact = r#"{"deadLetterTargetArn":"arn:aws:sqs:eu-north-1:000000000000:dlq","maxReceiveCount":"5"}"#;
        let spaced = r#"{"maxReceiveCount": 5, "deadLetterTargetArn": "arn:aws:sqs:eu-north-1:000000000000:dlq"}"#;
        let with = |text: &str| {
            QueueSettings::for_new_queue("q", &BTreeMap::from([("RedrivePolicy".to_string(), text.to_string())]))
                .unwrap()
        };
        assert!(with(compact).agrees_with(&with(spaced), Setting::RedrivePolicy));
        let other = compact.replace('5', "6");
        assert!(!with(compact).agrees_with(&with(&other), Setting::RedrivePolicy));
    }
}
