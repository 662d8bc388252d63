//! The SNS operations as typed requests and responses: the query protocol parses into [`Request`] and shapes
//! [`Response`]; [`execute`] runs a request against [`Sns`], with the batch checks of PublishBatch.

use super::error::{ErrorCode, SnsError};
use super::publication::Publication;
use super::service::{Page, Published, Sns};
use super::topic::Subscription;
use crate::aws::caller::Caller;
use crate::aws::sns::{MAX_BATCH, MAX_BATCH_ENTRY_ID_CHARS};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
pub enum Request {
    CreateTopic {
        name: String,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    },
    DeleteTopic {
        topic_arn: String,
    },
    ListTopics {
        next_token: Option<String>,
    },
    GetTopicAttributes {
        topic_arn: String,
    },
    SetTopicAttributes {
        topic_arn: String,
        name: String,
        value: String,
    },
    Subscribe {
        topic_arn: String,
        protocol: String,
        endpoint: String,
        attributes: BTreeMap<String, String>,
        return_arn: bool,
    },
    ConfirmSubscription {
        topic_arn: String,
        token: String,
    },
    Unsubscribe {
        subscription_arn: String,
    },
    ListSubscriptions {
        next_token: Option<String>,
    },
    ListSubscriptionsByTopic {
        topic_arn: String,
        next_token: Option<String>,
    },
    GetSubscriptionAttributes {
        subscription_arn: String,
    },
    SetSubscriptionAttributes {
        subscription_arn: String,
        name: String,
        value: String,
    },
    Publish {
        topic_arn: String,
        publication: Publication,
    },
    PublishBatch {
        topic_arn: String,
        entries: Vec<(String, Publication)>,
    },
    TagResource {
        arn: String,
        tags: BTreeMap<String, String>,
    },
    UntagResource {
        arn: String,
        keys: Vec<String>,
    },
    ListTagsForResource {
        arn: String,
    },
}

#[derive(Debug)]
pub enum Response {
    Empty,
    TopicArn(String),
    Topics(Page<String>),
    Attributes(BTreeMap<String, String>),
    SubscriptionArn(String),
    Subscriptions(Page<Subscription>),
    Published(Published),
    PublishedBatch { successful: Vec<(String, Published)>, failed: Vec<(String, SnsError)> },
    Tags(BTreeMap<String, String>),
}

pub fn execute(sns: &Sns, caller: &Caller, request: Request) -> Result<Response, SnsError> {
    Ok(match request {
        Request::CreateTopic { name, attributes, tags } => {
            Response::TopicArn(sns.create_topic(caller, &name, &attributes, &tags)?.arn)
        }
        Request::DeleteTopic { topic_arn } => {
            sns.delete_topic(&topic_arn);
            Response::Empty
        }
        Request::ListTopics { next_token } => Response::Topics(sns.list_topics(caller, next_token.as_deref())?),
        Request::GetTopicAttributes { topic_arn } => Response::Attributes(sns.topic_attributes(&topic_arn)?),
        Request::SetTopicAttributes { topic_arn, name, value } => {
            sns.set_topic_attribute(&topic_arn, &name, &value)?;
            Response::Empty
        }
        Request::Subscribe { topic_arn, protocol, endpoint, attributes, return_arn } => {
            let subscription = sns.subscribe(&topic_arn, &protocol, &endpoint, &attributes)?;
            let shown = if subscription.pending_confirmation && !return_arn {
                "pending confirmation".to_string()
            } else {
                subscription.arn
            };
            Response::SubscriptionArn(shown)
        }
        Request::ConfirmSubscription { topic_arn, token } => {
            Response::SubscriptionArn(sns.confirm(&topic_arn, &token)?)
        }
        Request::Unsubscribe { subscription_arn } => {
            sns.unsubscribe(&subscription_arn)?;
            Response::Empty
        }
        Request::ListSubscriptions { next_token } => {
            Response::Subscriptions(sns.list_subscriptions(caller, None, next_token.as_deref())?)
        }
        Request::ListSubscriptionsByTopic { topic_arn, next_token } => {
            Response::Subscriptions(sns.list_subscriptions(caller, Some(&topic_arn), next_token.as_deref())?)
        }
        Request::GetSubscriptionAttributes { subscription_arn } => {
            Response::Attributes(sns.subscription(&subscription_arn)?.attributes())
        }
        Request::SetSubscriptionAttributes { subscription_arn, name, value } => {
            sns.set_subscription_attribute(&subscription_arn, &name, &value)?;
            Response::Empty
        }
        Request::Publish { topic_arn, publication } => Response::Published(sns.publish(&topic_arn, publication)?),
        Request::PublishBatch { topic_arn, entries } => publish_batch(sns, &topic_arn, entries)?,
        Request::TagResource { arn, tags } => {
            sns.tag(&arn, &tags)?;
            Response::Empty
        }
        Request::UntagResource { arn, keys } => {
            sns.untag(&arn, &keys)?;
            Response::Empty
        }
        Request::ListTagsForResource { arn } => Response::Tags(sns.tags(&arn)?),
    })
}

/// PublishBatch: the whole request is refused for a bad batch (empty, too long, ids repeated or malformed), an
/// unknown topic, or any entry SNS would not publish; otherwise each entry succeeds or fails on its own.
fn publish_batch(sns: &Sns, topic_arn: &str, entries: Vec<(String, Publication)>) -> Result<Response, SnsError> {
    if entries.is_empty() {
        return Err(SnsError::new(ErrorCode::EmptyBatchRequest, "The batch request doesn't contain any entries"));
    }
    if entries.len() > MAX_BATCH {
        return Err(SnsError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            "The batch request contains more entries than permissible.",
        ));
    }
    let mut seen = HashSet::new();
    for (id, _) in &entries {
        let valid = !id.is_empty()
            && id.len() <= MAX_BATCH_ENTRY_ID_CHARS
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(SnsError::new(
                ErrorCode::InvalidBatchEntryId,
                format!("The Id of a batch entry in a batch request doesn't abide by the specification: {id}"),
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(SnsError::new(
                ErrorCode::BatchEntryIdsNotDistinct,
                "Two or more batch entries in the request have the same Id.",
            ));
        }
    }
    // A bad entry (FIFO ids, structure, attributes) fails the whole request, as on SNS; nothing is published.
    let topic = sns.topic(topic_arn)?;
    for (_, publication) in &entries {
        publication.check()?;
        publication.deduplication_for(&topic)?;
    }
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, publication) in entries {
        match sns.publish(topic_arn, publication) {
            Ok(published) => successful.push((id, published)),
            Err(error) => failed.push((id, error)),
        }
    }
    Ok(Response::PublishedBatch { successful, failed })
}
