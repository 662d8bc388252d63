//! What a subscriber receives: the published message as a notification, shaped for each protocol as SNS shapes
//! it. Lambda gets the `Records` event (`SigningCertUrl`, `UnsubscribeUrl`, `Subject: null` when there is none);
//! SQS and HTTP get the JSON envelope (`SigningCertURL`, `UnsubscribeURL`, no `Subject` when there is none,
//! `MessageAttributes` only when there are some), or the message itself with raw delivery.
//! Sources: Lambda developer guide "Using Lambda with Amazon SNS" and SNS developer guide "Amazon SNS message and
//! JSON formats"; the field spellings differ between the two on AWS, and they differ here too.

use crate::sqs::message::AttributeValue;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A message as published, with what SNS adds to it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// The message as published; with `MessageStructure: json`, the JSON object of messages per protocol.
    pub message: String,
    pub structured: bool,
    pub attributes: BTreeMap<String, AttributeValue>,
    /// `2026-12-05T12:00:00.000Z`.
    pub timestamp: String,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
}

/// Where SNS says its signing certificate and the unsubscribe link are.
pub struct Links {
    pub signing_cert: String,
    pub unsubscribe: String,
}

impl Notification {
    /// The message for one protocol: with `MessageStructure: json`, that protocol's entry or `default`.
    pub fn message_for(&self, protocol: &str) -> String {
        if !self.structured {
            return self.message.clone();
        }
        let messages: Value = serde_json::from_str(&self.message).unwrap_or(Value::Null);
        let text = messages.get(protocol).or_else(|| messages.get("default")).and_then(Value::as_str);
        text.unwrap_or_default().to_string()
    }

    /// Message attributes are delivered only when the message is not structured (SNS developer guide,
    /// "Amazon SNS message attributes").
    pub fn delivered_attributes(&self) -> BTreeMap<String, AttributeValue> {
        if self.structured {
            BTreeMap::new()
        } else {
            self.attributes.clone()
        }
    }

    /// The Lambda event for one subscription: one record.
    pub fn lambda_event(&self, subscription_arn: &str, links: &Links) -> Value {
        json!({"Records": [{
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "EventSource": "aws:sns",
            "Sns": {
                "Type": "Notification",
                "MessageId": self.message_id,
                "TopicArn": self.topic_arn,
                "Subject": self.subject,
                "Message": self.message_for("lambda"),
                "Timestamp": self.timestamp,
                "SignatureVersion": "1",
                "Signature": signature(&self.message_id),
                "SigningCertUrl": links.signing_cert,
                "UnsubscribeUrl": links.unsubscribe,
                "MessageAttributes": attributes_json(&self.delivered_attributes()),
            }
        }]})
    }

    /// The JSON envelope an SQS queue (or HTTP endpoint) receives without raw delivery.
    pub fn envelope(&self, protocol: &str, links: &Links) -> Value {
        let mut out = Map::new();
        out.insert("Type".into(), "Notification".into());
        out.insert("MessageId".into(), self.message_id.clone().into());
        if let Some(sequence) = &self.sequence_number {
            out.insert("SequenceNumber".into(), sequence.clone().into());
        }
        out.insert("TopicArn".into(), self.topic_arn.clone().into());
        if let Some(subject) = &self.subject {
            out.insert("Subject".into(), subject.clone().into());
        }
        out.insert("Message".into(), self.message_for(protocol).into());
        out.insert("Timestamp".into(), self.timestamp.clone().into());
        // A FIFO topic's messages carry no signature fields (captured: LocalStack's AWS-validated
        // test_message_to_fifo_sqs snapshot).
        if self.sequence_number.is_none() {
            out.insert("SignatureVersion".into(), "1".into());
            out.insert("Signature".into(), signature(&self.message_id).into());
            out.insert("SigningCertURL".into(), links.signing_cert.clone().into());
        }
        out.insert("UnsubscribeURL".into(), links.unsubscribe.clone().into());
        let attributes = self.delivered_attributes();
        if !attributes.is_empty() {
            out.insert("MessageAttributes".into(), attributes_json(&attributes));
        }
        Value::Object(out)
    }
}

/// `{"name": {"Type": "String", "Value": "…"}}`; binary values in base64.
fn attributes_json(attributes: &BTreeMap<String, AttributeValue>) -> Value {
    let entries = attributes.iter().map(|(name, value)| {
        let text = match (&value.string, &value.binary) {
            (Some(text), _) => text.clone(),
            (None, Some(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
            (None, None) => String::new(),
        };
        (name.clone(), json!({"Type": value.data_type, "Value": text}))
    });
    Value::Object(entries.collect())
}

/// Locally nothing is signed: a stand-in of the right form (base64), the same for the same message.
fn signature(message_id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("ftb-offline does not sign {message_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(subject: Option<&str>) -> Notification {
        Notification {
            message_id: "m".into(),
            topic_arn: "arn:aws:sns:us-east-1:000000000000:t".into(),
            subject: subject.map(String::from),
            message: "hello".into(),
            structured: false,
            attributes: BTreeMap::new(),
            timestamp: "2026-12-05T12:00:00.000Z".into(),
            group_id: None,
            deduplication_id: None,
            sequence_number: None,
        }
    }

    #[test]
    fn lambda_and_sqs_spell_their_fields_as_aws_does() {
        let links = Links { signing_cert: "c".into(), unsubscribe: "u".into() };
        let event = notification(None).lambda_event("arn:sub", &links);
        let sns = &event["Records"][0]["Sns"];
        assert_eq!(sns["Subject"], Value::Null, "Lambda gets a null Subject");
        assert_eq!(sns["SigningCertUrl"], "c");
        assert_eq!(sns["MessageAttributes"], json!({}));
        let envelope = notification(None).envelope("sqs", &links);
        assert!(envelope.get("Subject").is_none() && envelope.get("MessageAttributes").is_none());
        assert_eq!(envelope["UnsubscribeURL"], "u");
        assert_eq!(notification(Some("s")).envelope("sqs", &links)["Subject"], "s");
    }

    #[test]
    fn structured_messages_pick_the_protocols_entry() {
        let mut n = notification(None);
        n.structured = true;
        n.message = r#"{"default":"d","sqs":"q"}"#.into();
        assert_eq!(n.message_for("sqs"), "q");
        assert_eq!(n.message_for("lambda"), "d");
    }
}
