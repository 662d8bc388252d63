//! S3 event notifications: which configurations an object change matches (event type, key prefix and suffix),
//! and the record S3 sends ("Event message structure"): `eventVersion` 2.1, `eventName` without the `s3:` prefix
//! (`ObjectCreated:Put`), the object key URL-encoded as a form value (a space is `+`), `size` and `eTag`
//! (unquoted) for created objects only, and a `sequencer` that grows with each change.

use crate::aws::names;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Function(String),
    Queue(String),
    Topic(String),
}

/// One notification configuration of a bucket (`LambdaFunctionConfiguration`, `QueueConfiguration`,
/// `TopicConfiguration`, or an `s3` event of a function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRule {
    pub id: String,
    /// `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`…
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub target: Target,
}

impl NotificationRule {
    /// Whether a change named `event` (`ObjectCreated:Put`) of `key` is notified by this rule.
    pub fn matches(&self, event: &str, key: &str) -> bool {
        let named = self.events.iter().any(|pattern| {
            let pattern = pattern.strip_prefix("s3:").unwrap_or(pattern);
            match pattern.strip_suffix('*') {
                Some(family) => event.starts_with(family),
                None => pattern == event,
            }
        });
        named
            && self.prefix.as_deref().is_none_or(|prefix| key.starts_with(prefix))
            && self.suffix.as_deref().is_none_or(|suffix| key.ends_with(suffix))
    }
}

/// A change to an object, as the API saw it.
#[derive(Debug, Clone)]
pub struct ObjectChange {
    pub bucket: String,
    pub key: String,
    /// `ObjectCreated:Put`, `ObjectCreated:Copy`, `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`.
    pub event: &'static str,
    /// For created objects: the size and the ETag (unquoted).
    pub size: Option<u64>,
    pub etag: Option<String>,
    /// `AWS:<access key>` of the signer.
    pub principal: String,
    pub request_id: String,
}

static SEQUENCER: AtomicU64 = AtomicU64::new(0);

impl ObjectChange {
    /// The `Records` entry of this change; its `configurationId` is set per configuration.
    pub fn record(&self, region: &str) -> Value {
        let sequence = SEQUENCER.fetch_add(1, Ordering::SeqCst);
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let mut object = json!({
            "key": encode_key(&self.key),
            "sequencer": format!("{:016X}{:04X}", stamp as u64, sequence & 0xFFFF),
        });
        if let (Some(size), Some(etag)) = (self.size, &self.etag) {
            object["size"] = size.into();
            object["eTag"] = etag.trim_matches('"').into();
        }
        json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "eventName": self.event,
            "userIdentity": {"principalId": self.principal},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": self.request_id, "x-amz-id-2": format!("local/{}", self.request_id)},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "",
                "bucket": {
                    "name": self.bucket,
                    "ownerIdentity": {"principalId": names::ACCOUNT_ID},
                    "arn": names::bucket_arn(&self.bucket),
                },
                "object": object,
            }
        })
    }
}

/// A key as S3 writes it in events: form-encoded (a space becomes `+`), `/` kept.
pub fn encode_key(key: &str) -> String {
    key.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| match b {
                    b' ' => "+".to_string(),
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                    other => format!("%{other:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_event_families_prefixes_and_suffixes() {
        let rule = NotificationRule {
            id: "r".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some("uploads/".into()),
            suffix: Some(".jpg".into()),
            target: Target::Function("f".into()),
        };
        assert!(rule.matches("ObjectCreated:Put", "uploads/a.jpg"));
        assert!(rule.matches("ObjectCreated:CompleteMultipartUpload", "uploads/b.jpg"));
        assert!(!rule.matches("ObjectRemoved:Delete", "uploads/a.jpg"));
        assert!(!rule.matches("ObjectCreated:Put", "other/a.jpg"));
        assert!(!rule.matches("ObjectCreated:Put", "uploads/a.png"));
    }

    #[test]
    fn keys_are_form_encoded_as_s3_writes_them() {
        assert_eq!(encode_key("uploads/red flower.jpg"), "uploads/red+flower.jpg");
        assert_eq!(encode_key("a:b+c"), "a%3Ab%2Bc");
    }
}
