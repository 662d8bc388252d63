//! Topics and subscriptions as SNS keeps them: a topic's attributes and tags, a subscription's protocol,
//! endpoint, and the attributes that shape its deliveries (raw delivery, filter policy and its scope, redrive).

use super::error::SnsError;
use super::filter::{FilterPolicy, Scope};
use crate::aws::names;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A topic: where it is, whether it is FIFO, and what was set on it.
#[derive(Debug, Clone)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    /// The settable attributes as last set (DisplayName, Policy, DeliveryPolicy, KmsMasterKeyId…).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// Topic attributes CreateTopic and SetTopicAttributes take (API reference, SetTopicAttributes), beside
/// `FifoTopic` (creation only) and `ContentBasedDeduplication` (FIFO topics), which have their own fields.
pub const TOPIC_ATTRIBUTES: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "SQSSuccessFeedbackRoleArn",
    "SQSFailureFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
];

impl Topic {
    /// Every attribute GetTopicAttributes returns: the set ones, and those SNS derives (the owner, the default
    /// access policy, the subscription counts).
    pub fn attributes(&self, confirmed: usize, pending: usize) -> BTreeMap<String, String> {
        let mut out = self.attributes.clone();
        out.insert("TopicArn".into(), self.arn.clone());
        out.insert("Owner".into(), self.account.clone());
        out.entry("Policy".into()).or_insert_with(|| default_policy(&self.arn, &self.account).to_string());
        out.entry("DisplayName".into()).or_default();
        out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
        out.insert("SubscriptionsPending".into(), pending.to_string());
        out.insert("SubscriptionsDeleted".into(), "0".into());
        out.insert("EffectiveDeliveryPolicy".into(), EFFECTIVE_DELIVERY_POLICY.into());
        if self.fifo {
            out.insert("FifoTopic".into(), "true".into());
            out.insert("ContentBasedDeduplication".into(), self.content_based_deduplication.to_string());
        }
        out
    }

    /// Sets one attribute, as SetTopicAttributes does.
    pub fn set_attribute(&mut self, name: &str, value: &str) -> Result<(), SnsError> {
        match name {
            "ContentBasedDeduplication" if self.fifo => self.content_based_deduplication = parse_bool(name, value)?,
            "ContentBasedDeduplication" => {
                return Err(SnsError::invalid("ContentBasedDeduplication Reason: only FIFO topics take it"))
            }
            "FifoTopic" => return Err(SnsError::invalid("AttributeName: FifoTopic is set when the topic is created")),
            "Policy" | "DeliveryPolicy" | "DataProtectionPolicy" | "ArchivePolicy"
                if !value.is_empty() && serde_json::from_str::<Value>(value).is_err() =>
            {
                return Err(SnsError::invalid(format!("{name}: the value is not valid JSON")))
            }
            known if TOPIC_ATTRIBUTES.contains(&known) => {
                self.attributes.insert(name.to_string(), value.to_string());
            }
            _ => return Err(SnsError::invalid("AttributeName")),
        }
        Ok(())
    }
}

/// The access policy a new topic has: the owner's account may do everything with it.
fn default_policy(topic_arn: &str, account: &str) -> Value {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
}

/// The HTTP delivery policy SNS reports for a topic nobody changed.
const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

/// The delivery protocols Subscribe takes (API reference, Subscribe `Protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Lambda,
    Sqs,
    Http,
    Https,
    Email,
    EmailJson,
    Sms,
    Application,
    Firehose,
}

impl Protocol {
    pub fn parse(text: &str) -> Result<Self, SnsError> {
        Ok(match text {
            "lambda" => Self::Lambda,
            "sqs" => Self::Sqs,
            "http" => Self::Http,
            "https" => Self::Https,
            "email" => Self::Email,
            "email-json" => Self::EmailJson,
            "sms" => Self::Sms,
            "application" => Self::Application,
            "firehose" => Self::Firehose,
            other => {
                return Err(SnsError::invalid(format!("Amazon SNS does not support this protocol string: {other}")))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Lambda => "lambda",
            Self::Sqs => "sqs",
            Self::Http => "http",
            Self::Https => "https",
            Self::Email => "email",
            Self::EmailJson => "email-json",
            Self::Sms => "sms",
            Self::Application => "application",
            Self::Firehose => "firehose",
        }
    }

    /// Whether a subscription must be confirmed by its endpoint before it receives anything (http, https and
    /// email endpoints are sent a confirmation; Lambda and SQS of the same account are confirmed at once).
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Self::Http | Self::Https | Self::Email | Self::EmailJson)
    }

    /// Whether messages to this protocol are delivered locally (Lambda functions and SQS queues).
    pub fn delivered_locally(self) -> bool {
        matches!(self, Self::Lambda | Self::Sqs)
    }

    /// `RawMessageDelivery` applies to SQS, HTTP(S) and Firehose endpoints only.
    fn takes_raw_delivery(self) -> bool {
        matches!(self, Self::Sqs | Self::Http | Self::Https | Self::Firehose)
    }
}

/// A subscription of an endpoint to a topic.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub account: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub pending_confirmation: bool,
    pub raw: bool,
    pub filter: Option<FilterPolicy>,
    pub filter_scope: Scope,
    /// `RedrivePolicy.deadLetterTargetArn`: the queue of messages SNS could not deliver.
    pub dead_letter_queue: Option<String>,
    /// Other settable attributes as set (DeliveryPolicy, SubscriptionRoleArn, ReplayPolicy).
    pub attributes: BTreeMap<String, String>,
}

/// Subscription attributes Subscribe and SetSubscriptionAttributes take (API reference).
const SUBSCRIPTION_ATTRIBUTES: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

impl Subscription {
    pub fn new(topic: &Topic, protocol: Protocol, endpoint: &str) -> Self {
        Self {
            arn: names::subscription_arn(&topic.arn, &uuid::Uuid::new_v4().to_string()),
            topic_arn: topic.arn.clone(),
            account: topic.account.clone(),
            protocol,
            endpoint: endpoint.to_string(),
            pending_confirmation: protocol.needs_confirmation(),
            raw: false,
            filter: None,
            filter_scope: Scope::MessageAttributes,
            dead_letter_queue: None,
            attributes: BTreeMap::new(),
        }
    }

    /// What ListSubscriptions shows as the ARN: the ARN, or `PendingConfirmation` until confirmed.
    pub fn listed_arn(&self) -> &str {
        if self.pending_confirmation {
            "PendingConfirmation"
        } else {
            &self.arn
        }
    }

    /// Sets one attribute, as SetSubscriptionAttributes does (Subscribe words the same refusals with an
    /// `Attributes Reason:` in front); the filter policy is checked with its scope.
    pub fn set_attribute(&mut self, name: &str, value: &str) -> Result<(), SnsError> {
        match name {
            "RawMessageDelivery" => {
                let raw = parse_bool(name, value)?;
                if raw && !self.protocol.takes_raw_delivery() {
                    return Err(SnsError::invalid(format!(
                        "Delivery protocol [{}] does not support raw message delivery.",
                        self.protocol.name()
                    )));
                }
                self.raw = raw;
            }
            "FilterPolicy" if value.is_empty() => self.filter = None,
            "FilterPolicy" => self.filter = Some(FilterPolicy::parse(value, self.filter_scope)?),
            "FilterPolicyScope" => {
                self.filter_scope = Scope::parse(value)?;
                if let Some(filter) = &self.filter {
                    self.filter = Some(FilterPolicy::parse(&filter.text, self.filter_scope)?);
                }
            }
            "RedrivePolicy" if value.is_empty() => self.dead_letter_queue = None,
            "RedrivePolicy" => {
                let policy: Value = serde_json::from_str(value)
                    .map_err(|_| SnsError::invalid("RedrivePolicy: Redrive policy is not a valid JSON"))?;
                let target = policy
                    .get("deadLetterTargetArn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| SnsError::invalid("RedrivePolicy: deadLetterTargetArn is missing"))?;
                if names::parse_queue_arn(target).is_none() {
                    return Err(SnsError::invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn"));
                }
                self.dead_letter_queue = Some(target.to_string());
                self.attributes.insert(name.to_string(), value.to_string());
            }
            known if SUBSCRIPTION_ATTRIBUTES.contains(&known) => {
                self.attributes.insert(name.to_string(), value.to_string());
            }
            _ => return Err(SnsError::invalid("AttributeName")),
        }
        Ok(())
    }

    /// Every attribute GetSubscriptionAttributes returns.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        let mut out = self.attributes.clone();
        out.insert("SubscriptionArn".into(), self.arn.clone());
        out.insert("TopicArn".into(), self.topic_arn.clone());
        out.insert("Owner".into(), self.account.clone());
        out.insert("Protocol".into(), self.protocol.name().into());
        out.insert("Endpoint".into(), self.endpoint.clone());
        out.insert("PendingConfirmation".into(), self.pending_confirmation.to_string());
        out.insert("ConfirmationWasAuthenticated".into(), (!self.pending_confirmation).to_string());
        out.insert("RawMessageDelivery".into(), self.raw.to_string());
        if let Some(filter) = &self.filter {
            out.insert("FilterPolicy".into(), filter.text.clone());
            out.insert("FilterPolicyScope".into(), self.filter_scope.name().into());
        }
        out
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, SnsError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SnsError::invalid(format!("{name}: Invalid value [{value}]. Must be true or false."))),
    }
}
