//! [`Sns`]: every topic and subscription, and the operations the SNS API, `serverless.yml` and the other
//! services call. Publishing checks the message, deduplicates on FIFO topics, and hands a notification to each
//! subscription whose filter policy lets it through ([`super::delivery`]).

use super::delivery::Deliveries;
use super::error::SnsError;
use super::notification::Notification;
use super::publication::Publication;
use super::topic::{Protocol, Subscription, Topic};
use crate::aws::caller::Caller;
use crate::aws::names;
use crate::aws::sns::{DEDUPLICATION_WINDOW, MAX_TAGS, PAGE_SIZE};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// What Publish answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub message_id: String,
    /// FIFO topics number their messages.
    pub sequence_number: Option<String>,
}

/// A page of a list and the token of the next one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

pub struct Sns {
    home: Caller,
    state: Mutex<State>,
    deliveries: Deliveries,
}

#[derive(Default)]
struct State {
    topics: IndexMap<String, Topic>,
    subscriptions: IndexMap<String, Subscription>,
    /// FIFO deduplication: (topic ARN, deduplication id) → when it expires, and what the first publish answered.
    deduplication: HashMap<(String, String), (Instant, Published)>,
    next_sequence: u64,
}

impl State {
    /// The subscription of the same endpoint, by the same protocol, to the same topic.
    fn same_endpoint(&self, wanted: &Subscription) -> Option<&Subscription> {
        self.subscriptions
            .values()
            .find(|s| s.topic_arn == wanted.topic_arn && s.protocol == wanted.protocol && s.endpoint == wanted.endpoint)
    }
}

impl Sns {
    pub fn new(region: &str, deliveries: Deliveries) -> Arc<Self> {
        Arc::new(Self { home: Caller::home(region), state: Mutex::default(), deliveries })
    }

    /// The app's own account and region.
    pub fn home(&self) -> &Caller {
        &self.home
    }

    /// CreateTopic: a new topic, or the existing one of that name when its attributes and tags are the same.
    pub fn create_topic(
        &self,
        caller: &Caller,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Topic, SnsError> {
        let candidate = new_topic(caller, name, attributes, tags)?;
        let mut state = self.state.lock().unwrap();
        // Only what the request gives is compared: CreateTopic with a name alone returns the existing topic.
        if let Some(existing) = state.topics.get(&candidate.arn) {
            let shown = existing.attributes(0, 0);
            let differs = attributes
                .iter()
                .filter(|(name, _)| name.as_str() != "FifoTopic")
                .any(|(name, value)| shown.get(name).is_none_or(|current| !current.eq_ignore_ascii_case(value)));
            if differs {
                return Err(SnsError::invalid("Attributes Reason: Topic already exists with different attributes"));
            }
            if tags.iter().any(|(key, value)| existing.tags.get(key) != Some(value)) {
                return Err(SnsError::invalid("Tags Reason: Topic already exists with different tags"));
            }
            return Ok(existing.clone());
        }
        state.topics.insert(candidate.arn.clone(), candidate.clone());
        Ok(candidate)
    }

    /// A topic `serverless.yml` defines: created, or brought to its definition (a live edit).
    pub fn define_topic(
        &self,
        caller: &Caller,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Topic, SnsError> {
        let defined = new_topic(caller, name, attributes, tags)?;
        let mut state = self.state.lock().unwrap();
        state.topics.insert(defined.arn.clone(), defined.clone());
        Ok(defined)
    }

    /// DeleteTopic, with its subscriptions. Deleting a topic that is not there succeeds, as on SNS.
    pub fn delete_topic(&self, arn: &str) {
        let mut state = self.state.lock().unwrap();
        state.topics.shift_remove(arn);
        state.subscriptions.retain(|_, subscription| subscription.topic_arn != arn);
    }

    pub fn topic(&self, arn: &str) -> Result<Topic, SnsError> {
        self.state.lock().unwrap().topics.get(arn).cloned().ok_or_else(SnsError::no_topic)
    }

    /// ListTopics: the caller's topics (its account and region), a page at a time.
    pub fn list_topics(&self, caller: &Caller, next_token: Option<&str>) -> Result<Page<String>, SnsError> {
        let state = self.state.lock().unwrap();
        let arns: Vec<String> =
            state.topics.values().filter(|t| in_place(&t.arn, caller)).map(|t| t.arn.clone()).collect();
        page(arns, next_token)
    }

    /// GetTopicAttributes.
    pub fn topic_attributes(&self, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        let state = self.state.lock().unwrap();
        let topic = state.topics.get(arn).ok_or_else(SnsError::no_topic)?;
        let of_topic = state.subscriptions.values().filter(|s| s.topic_arn == arn);
        let pending = of_topic.clone().filter(|s| s.pending_confirmation).count();
        Ok(topic.attributes(of_topic.count() - pending, pending))
    }

    /// SetTopicAttributes.
    pub fn set_topic_attribute(&self, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut state = self.state.lock().unwrap();
        state.topics.get_mut(arn).ok_or_else(SnsError::no_topic)?.set_attribute(name, value)
    }

    /// Subscribe: a new subscription, or the existing one for the same endpoint and protocol.
    pub fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Subscription, SnsError> {
        let subscription = self.checked_subscription(topic_arn, protocol, endpoint, attributes)?;
        let mut state = self.state.lock().unwrap();
        if let Some(existing) = state.same_endpoint(&subscription) {
            // Only the attributes the request gives are compared, as SNS compares them.
            let (shown, wanted) = (existing.attributes(), subscription.attributes());
            if attributes.keys().any(|name| shown.get(name) != wanted.get(name)) {
                return Err(SnsError::invalid(
                    "Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            return Ok(existing.clone());
        }
        if !subscription.protocol.delivered_locally() {
            tracing::warn!(target: "sns", "{topic_arn}: the {protocol} subscription to {endpoint} is kept, but only Lambda functions and SQS queues receive messages locally");
        }
        state.subscriptions.insert(subscription.arn.clone(), subscription.clone());
        Ok(subscription)
    }

    /// A subscription `serverless.yml` defines (an `sns` event, an `AWS::SNS::Subscription`): created confirmed,
    /// as the account's own subscriptions are, or its attributes replaced (a live edit keeps its ARN).
    pub fn define_subscription(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Subscription, SnsError> {
        let mut subscription = self.checked_subscription(topic_arn, protocol, endpoint, attributes)?;
        subscription.pending_confirmation = false;
        let mut state = self.state.lock().unwrap();
        if let Some(existing) = state.same_endpoint(&subscription) {
            subscription.arn = existing.arn.clone();
        }
        state.subscriptions.insert(subscription.arn.clone(), subscription.clone());
        Ok(subscription)
    }

    /// A new subscription of `endpoint` to a topic, its protocol, endpoint and attributes checked as Subscribe
    /// checks them.
    fn checked_subscription(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Subscription, SnsError> {
        let protocol = Protocol::parse(protocol)?;
        let topic = self.topic(topic_arn)?;
        check_endpoint(&topic, protocol, endpoint)?;
        let mut subscription = Subscription::new(&topic, protocol, endpoint);
        apply_attributes(&mut subscription, attributes)?;
        Ok(subscription)
    }

    /// ConfirmSubscription: the token is the subscription's id (what the confirmation message would carry).
    pub fn confirm(&self, topic_arn: &str, token: &str) -> Result<String, SnsError> {
        let mut state = self.state.lock().unwrap();
        if !state.topics.contains_key(topic_arn) {
            return Err(SnsError::no_topic());
        }
        let arn = names::subscription_arn(topic_arn, token);
        let subscription = state.subscriptions.get_mut(&arn).ok_or_else(|| SnsError::invalid("Token"))?;
        subscription.pending_confirmation = false;
        Ok(arn)
    }

    /// Unsubscribe. Unsubscribing twice, or from a subscription that is not there, succeeds, as on SNS; only an
    /// ARN of the wrong form is refused.
    pub fn unsubscribe(&self, arn: &str) -> Result<(), SnsError> {
        let parts = arn.split(':').count();
        if parts < 6 {
            return Err(SnsError::invalid(format!(
                "SubscriptionArn Reason: An ARN must have at least 6 elements, not {parts}"
            )));
        }
        self.state.lock().unwrap().subscriptions.shift_remove(arn);
        Ok(())
    }

    /// Subscriptions whose ARN belongs to `topic` (all of the caller's when `None`), a page at a time.
    pub fn list_subscriptions(
        &self,
        caller: &Caller,
        topic: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<Page<Subscription>, SnsError> {
        let state = self.state.lock().unwrap();
        if let Some(topic) = topic {
            if !state.topics.contains_key(topic) {
                return Err(SnsError::no_topic());
            }
        }
        let listed: Vec<Subscription> = state
            .subscriptions
            .values()
            .filter(|s| topic.map_or(in_place(&s.topic_arn, caller), |t| s.topic_arn == t))
            .cloned()
            .collect();
        page(listed, next_token)
    }

    pub fn subscription(&self, arn: &str) -> Result<Subscription, SnsError> {
        self.state.lock().unwrap().subscriptions.get(arn).cloned().ok_or_else(SnsError::no_subscription)
    }

    /// SetSubscriptionAttributes.
    pub fn set_subscription_attribute(&self, arn: &str, name: &str, value: &str) -> Result<(), SnsError> {
        let mut state = self.state.lock().unwrap();
        state.subscriptions.get_mut(arn).ok_or_else(SnsError::no_subscription)?.set_attribute(name, value)
    }

    /// TagResource: topics are the taggable resources.
    pub fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), SnsError> {
        let mut state = self.state.lock().unwrap();
        let topic = state.topics.get_mut(arn).ok_or_else(resource_not_found)?;
        let mut updated = topic.tags.clone();
        updated.extend(tags.clone());
        if updated.len() > MAX_TAGS {
            return Err(SnsError::new(
                super::error::ErrorCode::TagLimitExceeded,
                "Could not complete request: tag quota of per resource exceeded",
            ));
        }
        topic.tags = updated;
        Ok(())
    }

    pub fn untag(&self, arn: &str, keys: &[String]) -> Result<(), SnsError> {
        let mut state = self.state.lock().unwrap();
        let topic = state.topics.get_mut(arn).ok_or_else(resource_not_found)?;
        topic.tags.retain(|key, _| !keys.contains(key));
        Ok(())
    }

    pub fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, SnsError> {
        self.state.lock().unwrap().topics.get(arn).map(|t| t.tags.clone()).ok_or_else(resource_not_found)
    }

    /// Publish: checks the message, deduplicates it on a FIFO topic, and delivers it to each confirmed
    /// subscription it passes the filter policy of. Queues have it when this returns; functions are invoked
    /// asynchronously, with Lambda's retries.
    pub fn publish(&self, topic_arn: &str, publication: Publication) -> Result<Published, SnsError> {
        publication.check()?;
        let (notification, subscriptions) = {
            let mut state = self.state.lock().unwrap();
            let topic = state.topics.get(topic_arn).ok_or_else(SnsError::no_topic)?.clone();
            let deduplication_id = publication.deduplication_for(&topic)?;
            let now = Instant::now();
            state.deduplication.retain(|_, (expires, _)| *expires > now);
            if let Some(id) = &deduplication_id {
                if let Some((_, first)) = state.deduplication.get(&(topic.arn.clone(), id.clone())) {
                    return Ok(first.clone());
                }
            }
            let sequence_number = topic.fifo.then(|| {
                state.next_sequence += 1;
                format!("{:020}", 10_000_000_000_000_000_000u128 + u128::from(state.next_sequence))
            });
            let published = Published { message_id: uuid::Uuid::new_v4().to_string(), sequence_number };
            if let Some(id) = &deduplication_id {
                state
                    .deduplication
                    .insert((topic.arn.clone(), id.clone()), (now + DEDUPLICATION_WINDOW, published.clone()));
            }
            let notification = Notification {
                message_id: published.message_id.clone(),
                topic_arn: topic.arn.clone(),
                subject: publication.subject.clone(),
                message: publication.message.clone(),
                structured: publication.structured,
                attributes: publication.attributes.clone(),
                timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                group_id: publication.group_id.clone(),
                deduplication_id,
                sequence_number: published.sequence_number.clone(),
            };
            let subscriptions: Vec<Subscription> = state
                .subscriptions
                .values()
                .filter(|s| s.topic_arn == topic.arn && !s.pending_confirmation)
                .cloned()
                .collect();
            (notification, subscriptions)
        };
        for subscription in subscriptions {
            let passes = subscription.filter.as_ref().is_none_or(|filter| {
                filter.passes(&notification.message_for(subscription.protocol.name()), &notification.attributes)
            });
            if passes {
                self.deliveries.deliver(&subscription, &notification);
            }
        }
        Ok(Published { message_id: notification.message_id, sequence_number: notification.sequence_number })
    }
}

/// A topic as CreateTopic would make it, its name and attributes checked.
fn new_topic(
    caller: &Caller,
    name: &str,
    attributes: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> Result<Topic, SnsError> {
    let fifo = attributes.get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    check_topic_name(name, fifo)?;
    let mut topic = Topic {
        arn: names::topic_arn_in(&caller.account, &caller.region, name),
        name: name.to_string(),
        account: caller.account.clone(),
        fifo,
        content_based_deduplication: false,
        attributes: BTreeMap::new(),
        tags: tags.clone(),
    };
    for (key, value) in attributes.iter().filter(|(k, _)| k.as_str() != "FifoTopic") {
        topic.set_attribute(key, value)?;
    }
    Ok(topic)
}

/// Topic names: 1 to 256 letters, digits, `-` and `_`; a FIFO topic's name ends with `.fifo` (CreateTopic).
fn check_topic_name(name: &str, fifo: bool) -> Result<(), SnsError> {
    let stem = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let valid = stem.is_some_and(|stem| {
        !stem.is_empty()
            && name.len() <= 256
            && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if valid {
        return Ok(());
    }
    Err(SnsError::invalid("Topic Name"))
}

/// What Subscribe refuses for an endpoint: an ARN of the wrong kind, a FIFO queue on a standard topic, anything
/// but SQS on a FIFO topic.
fn check_endpoint(topic: &Topic, protocol: Protocol, endpoint: &str) -> Result<(), SnsError> {
    match protocol {
        Protocol::Sqs => {
            if names::parse_queue_arn(endpoint).is_none() {
                return Err(SnsError::invalid("SQS endpoint ARN"));
            }
            if endpoint.ends_with(".fifo") && !topic.fifo {
                return Err(SnsError::invalid(
                    "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
                ));
            }
        }
        Protocol::Lambda if !endpoint.starts_with("arn:aws:lambda:") => {
            return Err(SnsError::invalid("Lambda endpoint ARN"))
        }
        _ => {}
    }
    if topic.fifo && protocol != Protocol::Sqs {
        return Err(SnsError::invalid(format!(
            "Invalid protocol type: {} (FIFO topics deliver to SQS queues)",
            protocol.name()
        )));
    }
    Ok(())
}

/// Subscribe's `Attributes`, the scope first so that the filter policy is checked against it. A refusal reads
/// "Invalid parameter: Attributes Reason: …" here, where SetSubscriptionAttributes says "Invalid parameter: …"
/// (LocalStack's AWS-validated SNS snapshots).
fn apply_attributes(subscription: &mut Subscription, attributes: &BTreeMap<String, String>) -> Result<(), SnsError> {
    let scope = attributes.get("FilterPolicyScope").map(|scope| ("FilterPolicyScope", scope));
    let rest = attributes.iter().filter(|(name, _)| name.as_str() != "FilterPolicyScope");
    for (name, value) in scope.into_iter().chain(rest.map(|(n, v)| (n.as_str(), v))) {
        subscription.set_attribute(name, value).map_err(|mut error| {
            if let Some(reason) = error.message.strip_prefix("Invalid parameter: ") {
                error.message = format!("Invalid parameter: Attributes Reason: {reason}");
            }
            error
        })?;
    }
    Ok(())
}

fn in_place(topic_arn: &str, caller: &Caller) -> bool {
    names::parse_topic_arn(topic_arn)
        .is_some_and(|(region, account, _)| region == caller.region && account == caller.account)
}

fn resource_not_found() -> SnsError {
    SnsError::new(super::error::ErrorCode::ResourceNotFound, "Resource does not exist")
}

/// One page of `items`; the token is the index of the next page's first item.
fn page<T>(items: Vec<T>, next_token: Option<&str>) -> Result<Page<T>, SnsError> {
    let start = match next_token {
        None | Some("") => 0,
        Some(token) => token.parse::<usize>().map_err(|_| SnsError::invalid("NextToken"))?,
    };
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(start).take(PAGE_SIZE).collect();
    let next = start + items.len();
    Ok(Page { items, next_token: (next < total).then(|| next.to_string()) })
}
