//! Delivering a notification to one subscription: a Lambda function is invoked asynchronously through the pool
//! (Lambda then retries a failing function as it retries any asynchronous invocation); an SQS queue is sent the
//! envelope, or the message itself with raw delivery (message attributes becoming SQS message attributes, FIFO
//! ids passed on). A delivery that cannot be made (no such function or queue) goes to the subscription's
//! dead-letter queue when it has one, else it is logged and dropped, as SNS drops it.

use super::notification::{Links, Notification};
use super::topic::{Protocol, Subscription};
use crate::aws::sns::MAX_RAW_SQS_ATTRIBUTES;
use crate::lambda::{InvokeRequest, Lambda, Trigger};
use crate::sqs::message::{AttributeValue, NewMessage};
use crate::sqs::Sqs;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

/// Where notifications go: the functions and the queues (held weakly: they outlive no emulator).
#[derive(Clone)]
pub struct Deliveries {
    lambda: Weak<Lambda>,
    sqs: Weak<Sqs>,
    /// The local endpoint (the Lambda port), where the unsubscribe link points.
    endpoint: String,
    region: String,
}

impl Deliveries {
    pub fn new(lambda: &Arc<Lambda>, sqs: &Arc<Sqs>, endpoint: &str, region: &str) -> Self {
        Self {
            lambda: Arc::downgrade(lambda),
            sqs: Arc::downgrade(sqs),
            endpoint: endpoint.into(),
            region: region.into(),
        }
    }

    /// Nowhere: for checking plans, where nothing is published.
    pub fn nowhere(region: &str) -> Self {
        Self { lambda: Weak::new(), sqs: Weak::new(), endpoint: String::new(), region: region.into() }
    }

    pub fn deliver(&self, subscription: &Subscription, notification: &Notification) {
        let outcome = match subscription.protocol {
            Protocol::Lambda => self.to_function(subscription, notification),
            Protocol::Sqs => self.to_queue(subscription, notification),
            _ => return,
        };
        if let Err(reason) = outcome {
            self.undeliverable(subscription, notification, &reason);
        }
    }

    fn links(&self, subscription: &Subscription) -> Links {
        let region = crate::aws::names::parse_topic_arn(&subscription.topic_arn).map_or(self.region.as_str(), |t| t.0);
        let arn = percent_encoding::utf8_percent_encode(&subscription.arn, percent_encoding::NON_ALPHANUMERIC);
        Links {
            signing_cert: format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem"),
            unsubscribe: format!("{}/?Action=Unsubscribe&SubscriptionArn={arn}", self.endpoint),
        }
    }

    fn to_function(&self, subscription: &Subscription, notification: &Notification) -> Result<(), String> {
        let lambda = self.lambda.upgrade().ok_or("the emulator is stopping")?;
        let event = notification.lambda_event(&subscription.arn, &self.links(subscription));
        let request = InvokeRequest::new(serde_json::to_vec(&event).expect("JSON values serialise"))
            .by(Trigger::Topic { topic: subscription.topic_arn.clone() });
        lambda
            .invoke_event(&subscription.endpoint, request)
            .map(|_| ())
            .ok_or_else(|| format!("no function {}", subscription.endpoint))
    }

    fn to_queue(&self, subscription: &Subscription, notification: &Notification) -> Result<(), String> {
        let sqs = self.sqs.upgrade().ok_or("the emulator is stopping")?;
        let queue = sqs.queue_by_arn(&subscription.endpoint).map_err(|e| e.message)?;
        let (body, attributes) = if subscription.raw {
            let attributes = notification.delivered_attributes();
            if attributes.len() > MAX_RAW_SQS_ATTRIBUTES {
                return Err(format!(
                    "{} message attributes, more than the {MAX_RAW_SQS_ATTRIBUTES} SQS takes",
                    attributes.len()
                ));
            }
            (notification.message_for("sqs"), attributes)
        } else {
            (notification.envelope("sqs", &self.links(subscription)).to_string(), BTreeMap::new())
        };
        let fifo = queue.name.ends_with(".fifo");
        let message = NewMessage {
            body,
            attributes,
            group_id: notification.group_id.clone().filter(|_| fifo),
            deduplication_id: notification.deduplication_id.clone().filter(|_| fifo),
            ..NewMessage::default()
        };
        sqs.send(&queue, message).map(|_| ()).map_err(|e| e.message)
    }

    /// A notification that could not be delivered: to the dead-letter queue, or dropped with a warning.
    fn undeliverable(&self, subscription: &Subscription, notification: &Notification, reason: &str) {
        let (target, topic) = (&subscription.endpoint, &subscription.topic_arn);
        let Some(dlq) = &subscription.dead_letter_queue else {
            tracing::warn!(target: "sns", "{topic}: message {} not delivered to {target}: {reason}; dropped (the subscription has no RedrivePolicy)", notification.message_id);
            return;
        };
        let sent = self.sqs.upgrade().and_then(|sqs| {
            let queue = sqs.queue_by_arn(dlq).ok()?;
            let body = notification.envelope(subscription.protocol.name(), &self.links(subscription)).to_string();
            let attributes: BTreeMap<String, AttributeValue> = BTreeMap::new();
            sqs.send(&queue, NewMessage { body, attributes, ..NewMessage::default() }).ok()
        });
        match sent {
            Some(_) => {
                tracing::warn!(target: "sns", "{topic}: message {} not delivered to {target}: {reason}; sent to the dead-letter queue {dlq}", notification.message_id)
            }
            None => {
                tracing::warn!(target: "sns", "{topic}: message {} not delivered to {target}: {reason}, nor to the dead-letter queue {dlq}; dropped", notification.message_id)
            }
        }
    }
}
