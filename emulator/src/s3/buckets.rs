//! What ftb-offline keeps about buckets beside their objects (which s3s-fs keeps as files under the data
//! folder): each bucket's CORS rules and notification configurations, and the delivery of notifications to
//! functions (asynchronous invocations, with Lambda's retries), queues and topics.

use super::cors::CorsRule;
use super::events::{NotificationRule, ObjectChange, Target};
use crate::lambda::{InvokeRequest, Lambda, Trigger};
use crate::sns::publication::Publication;
use crate::sns::Sns;
use crate::sqs::message::NewMessage;
use crate::sqs::Sqs;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};

/// The subject of S3's notifications through SNS.
const SNS_SUBJECT: &str = "Amazon S3 Notification";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketSettings {
    pub cors: Vec<CorsRule>,
    pub notifications: Vec<NotificationRule>,
}

/// Where notifications go (held weakly: they live as long as the emulator).
#[derive(Clone, Default)]
pub struct Destinations {
    pub lambda: Weak<Lambda>,
    pub sqs: Weak<Sqs>,
    pub sns: Weak<Sns>,
}

pub struct Buckets {
    root: PathBuf,
    region: String,
    settings: RwLock<HashMap<String, BucketSettings>>,
    destinations: Destinations,
}

impl Buckets {
    pub fn new(root: &Path, region: &str, destinations: Destinations) -> Arc<Self> {
        Arc::new(Self { root: root.to_path_buf(), region: region.into(), settings: RwLock::default(), destinations })
    }

    /// The folder the objects are kept in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a bucket `serverless.yml` defines (kept if it exists, with its objects).
    pub fn ensure(&self, bucket: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join(bucket))
    }

    pub fn exists(&self, bucket: &str) -> bool {
        !bucket.is_empty() && !bucket.starts_with('.') && self.root.join(bucket).is_dir()
    }

    pub fn settings(&self, bucket: &str) -> BucketSettings {
        self.settings.read().unwrap().get(bucket).cloned().unwrap_or_default()
    }

    pub fn set_cors(&self, bucket: &str, cors: Vec<CorsRule>) {
        self.settings.write().unwrap().entry(bucket.to_string()).or_default().cors = cors;
    }

    pub fn set_notifications(&self, bucket: &str, notifications: Vec<NotificationRule>) {
        self.settings.write().unwrap().entry(bucket.to_string()).or_default().notifications = notifications;
    }

    /// Forgets a deleted bucket's settings.
    pub fn forget(&self, bucket: &str) {
        self.settings.write().unwrap().remove(bucket);
    }

    /// Sends `change` to every configuration of its bucket that matches it.
    pub fn notify(&self, change: &ObjectChange) {
        let rules = self.settings(&change.bucket).notifications;
        // One record per change (one sequencer, one time), each configuration naming itself in it.
        let record = change.record(&self.region);
        for rule in rules.iter().filter(|rule| rule.matches(change.event, &change.key)) {
            let mut record = record.clone();
            record["s3"]["configurationId"] = rule.id.clone().into();
            let message = json!({"Records": [record]});
            if let Err(reason) = self.deliver(&rule.target, &change.bucket, &message.to_string()) {
                tracing::warn!(target: "s3", "{} {} of s3://{}/{} was not notified to {:?}: {reason}", change.event, rule.id, change.bucket, change.key, rule.target);
            }
        }
    }

    fn deliver(&self, target: &Target, bucket: &str, message: &str) -> Result<(), String> {
        let stopping = || "the emulator is stopping".to_string();
        match target {
            Target::Function(arn) => {
                let lambda = self.destinations.lambda.upgrade().ok_or_else(stopping)?;
                lambda
                    .invoke_event(
                        arn,
                        InvokeRequest::new(message.to_string()).by(Trigger::Bucket { bucket: bucket.into() }),
                    )
                    .map(|_| ())
                    .ok_or(format!("no function {arn}"))
            }
            Target::Queue(arn) => {
                let sqs = self.destinations.sqs.upgrade().ok_or_else(stopping)?;
                let queue = sqs.queue_by_arn(arn).map_err(|e| e.message)?;
                let sent = sqs.send(&queue, NewMessage { body: message.to_string(), ..NewMessage::default() });
                sent.map(|_| ()).map_err(|e| e.message)
            }
            Target::Topic(arn) => {
                let sns = self.destinations.sns.upgrade().ok_or_else(stopping)?;
                let publication = Publication {
                    message: message.to_string(),
                    subject: Some(SNS_SUBJECT.into()),
                    ..Publication::default()
                };
                sns.publish(arn, publication).map(|_| ()).map_err(|e| e.message)
            }
        }
    }
}
