//! One queue with SQS's semantics: at-least-once delivery, visibility timeouts, delays, retention,
//! ApproximateReceiveCount, FIFO ordering per message group and deduplication, and the messages that have used up
//! their receives (which [`super::service::Sqs`] redrives to a dead-letter queue). No wire format here.

use super::checks::{check_message, fifo_fields, FifoFields};
use super::digest::{md5_of_attributes, md5_of_body};
use super::error::{ErrorCode, SqsError};
use super::message::{epoch_ms, message_id_of, Content, Message, NewMessage, Received, Sent, TRACE_HEADER};
use super::settings::{QueueSettings, Setting};
use crate::aws::caller::Caller;
use crate::aws::names::{queue_arn_in, queue_url};
use crate::aws::sqs as limits;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio::time::Instant;

/// A queue: where it is (account and region), its names, settings, tags and messages.
pub struct Queue {
    pub name: String,
    pub place: Caller,
    pub url: String,
    pub arn: String,
    created: SystemTime,
    modified: Mutex<SystemTime>,
    settings: Mutex<QueueSettings>,
    tags: Mutex<BTreeMap<String, String>>,
    state: Mutex<QueueState>,
    changed: Notify,
}

/// The messages of a queue and what FIFO delivery remembers.
#[derive(Default)]
pub(super) struct QueueState {
    pub messages: VecDeque<Message>,
    /// FIFO deduplication ids seen within the window, with when they expire and the message id they produced.
    pub deduplication: HashMap<String, (Instant, String)>,
    pub next_sequence: u64,
}

/// What sending did: queued the message, or found it a duplicate within the FIFO deduplication window (and
/// answered with the first one's id).
pub(super) enum Sending {
    Queued(Sent),
    Duplicate(Sent),
}

/// A message as [`Queue::peek`] shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peeked {
    pub message_id: String,
    pub body: String,
    /// `visible`, `inFlight` (received, hidden) or `delayed`.
    pub state: &'static str,
    pub receive_count: u32,
    pub sent_ms: u64,
    pub group_id: Option<String>,
    pub dead_letter_source_arn: Option<String>,
}

/// What one receive attempt found.
pub(super) struct ReceiveAttempt {
    pub received: Vec<Received>,
    /// Messages received maxReceiveCount times, taken out of the queue for its dead-letter queue.
    pub dead_letters: Option<DeadLetters>,
    /// When the next hidden message becomes visible.
    pub next_available: Option<Instant>,
}

pub(super) struct DeadLetters {
    /// The redrive policy's `deadLetterTargetArn` when the messages were taken out.
    pub target_arn: String,
    pub messages: Vec<Message>,
}

impl Queue {
    /// An empty queue named `name` in `place`, served at `endpoint`.
    pub(super) fn new(name: &str, place: Caller, endpoint: &str, settings: QueueSettings) -> Self {
        Self {
            name: name.to_string(),
            url: queue_url(endpoint, &place.account, name),
            arn: queue_arn_in(&place.account, &place.region, name),
            place,
            created: SystemTime::now(),
            modified: Mutex::new(SystemTime::now()),
            settings: Mutex::new(settings),
            tags: Mutex::new(BTreeMap::new()),
            state: Mutex::new(QueueState::default()),
            changed: Notify::new(),
        }
    }

    pub fn settings(&self) -> QueueSettings {
        self.settings.lock().unwrap().clone()
    }

    pub(super) fn set_settings(&self, settings: QueueSettings) {
        *self.settings.lock().unwrap() = settings;
        *self.modified.lock().unwrap() = SystemTime::now();
    }

    pub fn tags(&self) -> BTreeMap<String, String> {
        self.tags.lock().unwrap().clone()
    }

    /// Changes the tags with `change` (which may refuse, changing nothing).
    pub(super) fn change_tags<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> Result<T, SqsError>,
    ) -> Result<T, SqsError> {
        let mut tags = self.tags.lock().unwrap();
        let mut changed = tags.clone();
        let result = change(&mut changed)?;
        *tags = changed;
        Ok(result)
    }

    pub(super) fn state(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap()
    }

    /// Wakes the long polls waiting on this queue.
    pub(super) fn wake_receivers(&self) {
        self.changed.notify_waiters();
    }

    /// Resolves at the next [`Queue::wake_receivers`].
    pub(super) fn changes(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Queue attributes as GetQueueAttributes returns them.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        let settings = self.settings();
        let (visible, in_flight, delayed) = self.counts();
        let mut attributes = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            attributes.insert(k.to_string(), v);
        };
        put("QueueArn", self.arn.clone());
        put("ApproximateNumberOfMessages", visible.to_string());
        put("ApproximateNumberOfMessagesNotVisible", in_flight.to_string());
        put("ApproximateNumberOfMessagesDelayed", delayed.to_string());
        put("CreatedTimestamp", epoch_seconds(self.created).to_string());
        put("LastModifiedTimestamp", epoch_seconds(*self.modified.lock().unwrap()).to_string());
        for setting in Setting::ALL {
            if let Some(value) = settings.value(setting) {
                put(setting.name(), value);
            }
        }
        attributes
    }

    /// Up to `max` messages as they are now, oldest first, without receiving them: nothing about them changes
    /// (SQS has no such operation; the web console shows a queue this way).
    pub fn peek(&self, max: usize) -> Vec<Peeked> {
        let now = Instant::now();
        let state = self.state();
        let live = state.messages.iter().filter(|m| m.expires_at > now);
        live.take(max)
            .map(|message| Peeked {
                message_id: message.content.id.clone(),
                body: message.content.body.clone(),
                state: match (message.available_at <= now, message.receipt.is_some()) {
                    (true, _) => "visible",
                    (false, true) => "inFlight",
                    (false, false) => "delayed",
                },
                receive_count: message.receive_count,
                sent_ms: message.content.sent_ms,
                group_id: message.content.group_id.clone(),
                dead_letter_source_arn: message.content.dead_letter_source_arn.clone(),
            })
            .collect()
    }

    /// Messages not expired: visible, in flight (received, hidden), delayed (sent, hidden).
    pub fn counts(&self) -> (usize, usize, usize) {
        let now = Instant::now();
        let state = self.state();
        let (mut visible, mut in_flight, mut delayed) = (0, 0, 0);
        for message in state.messages.iter().filter(|m| m.expires_at > now) {
            match (message.available_at <= now, message.receipt.is_some()) {
                (true, _) => visible += 1,
                (false, true) => in_flight += 1,
                (false, false) => delayed += 1,
            }
        }
        (visible, in_flight, delayed)
    }

    /// SendMessage, with SQS's checks of the message.
    pub(super) fn send(&self, message: NewMessage) -> Result<Sending, SqsError> {
        let settings = self.settings();
        check_message(&message, &settings)?;
        let fifo = fifo_fields(&message, &settings)?;
        let now = Instant::now();
        let md5_body = md5_of_body(&message.body);
        let md5_attributes = md5_of_attributes(&message.attributes);
        let md5_system_attributes = md5_of_attributes(&message.system_attributes);
        let mut state = self.state();
        state.deduplication.retain(|_, (expires, _)| *expires > now);
        if let Some(fields) = &fifo {
            if let Some((_, existing)) =
                state.deduplication.get(&fields.deduplication_key(settings.deduplication_scope))
            {
                let message_id = existing.clone();
                let sent = Sent { message_id, md5_body, md5_attributes, md5_system_attributes, sequence_number: None };
                return Ok(Sending::Duplicate(sent));
            }
        }
        let (group_id, deduplication_id, delay) = match fifo {
            // FIFO queues delay by the queue's setting only (a per-message delay is refused above).
            Some(fields) => (Some(fields.group_id), Some(fields.deduplication_id), settings.delay),
            None => (message.group_id.clone(), None, message.delay.unwrap_or(settings.delay)),
        };
        let id = uuid::Uuid::new_v4().to_string();
        let sequence_number = settings.fifo.then(|| {
            state.next_sequence += 1;
            format!("{:020}", state.next_sequence)
        });
        if let (Some(group), Some(dedup)) = (&group_id, &deduplication_id) {
            let key = FifoFields::key(settings.deduplication_scope, group, dedup);
            state.deduplication.insert(key, (now + limits::DEDUPLICATION_WINDOW, id.clone()));
        }
        let content = Content {
            id: id.clone(),
            body: message.body,
            attributes: message.attributes,
            md5_body: md5_body.clone(),
            md5_attributes: md5_attributes.clone(),
            sent_ms: epoch_ms(),
            trace_header: message.system_attributes.get(TRACE_HEADER).and_then(|v| v.string.clone()),
            dead_letter_source_arn: None,
            group_id,
            deduplication_id,
            sequence_number: sequence_number.clone(),
        };
        state.messages.push_back(Message {
            content,
            available_at: now + delay,
            expires_at: now + settings.retention,
            receive_count: 0,
            first_receive_ms: None,
            receipt: None,
        });
        tracing::debug!(target: "sqs", "sent {id} to {}", self.name);
        Ok(Sending::Queued(Sent { message_id: id, md5_body, md5_attributes, md5_system_attributes, sequence_number }))
    }

    /// One receive attempt of up to `max` messages, hidden for `visibility` (the queue's when `None`). A FIFO
    /// group with a message in flight gives none.
    pub(super) fn try_receive(&self, max: usize, visibility: Option<Duration>) -> ReceiveAttempt {
        let settings = self.settings();
        let visibility = visibility.unwrap_or(settings.visibility_timeout);
        let now = Instant::now();
        let mut state = self.state();
        state.messages.retain(|m| m.expires_at > now);
        let mut received = Vec::new();
        let mut exhausted = Vec::new();
        let mut busy_groups = HashSet::new();
        let mut next_available: Option<Instant> = None;
        for (index, message) in state.messages.iter_mut().enumerate() {
            if received.len() >= max {
                break;
            }
            if message.available_at > now {
                next_available = Some(next_available.map_or(message.available_at, |n| n.min(message.available_at)));
                if let Some(group) = &message.content.group_id {
                    busy_groups.insert(group.clone());
                }
                continue;
            }
            if message.content.group_id.as_ref().is_some_and(|g| busy_groups.contains(g)) {
                continue;
            }
            if let Some(redrive) = &settings.redrive {
                if message.receive_count >= redrive.max_receive_count {
                    exhausted.push(index);
                    continue;
                }
            }
            received.push(message.receive(now, visibility));
        }
        if !received.is_empty() {
            tracing::debug!(target: "sqs", "received {} from {}", received.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>().join(", "), self.name);
        }
        let dead_letters = settings.redrive.filter(|_| !exhausted.is_empty()).map(|redrive| DeadLetters {
            target_arn: redrive.dead_letter_target_arn,
            messages: exhausted.into_iter().rev().filter_map(|i| state.messages.remove(i)).collect(),
        });
        ReceiveAttempt { received, dead_letters, next_available }
    }

    /// Takes messages redriven from another queue: visible now, with this queue's retention and no receives.
    pub(super) fn accept_dead_letters(&self, source: &Queue, messages: Vec<Message>) {
        for message in &messages {
            tracing::info!(target: "sqs", "moved {} from {} to dead-letter queue {} after {} receives", message.content.id, source.name, self.name, message.receive_count);
        }
        self.accept(messages, Some(&source.arn));
    }

    /// Takes messages moved from another queue: visible now, with this queue's retention. `dead_letter_source` is
    /// the queue they used up their receives in, when this is its dead-letter queue: they then keep their receive
    /// count, as on SQS. Messages a move task brings start afresh.
    pub(super) fn accept(&self, messages: Vec<Message>, dead_letter_source: Option<&str>) {
        let retention = self.settings().retention;
        let now = Instant::now();
        let mut state = self.state();
        for mut message in messages {
            message.receipt = None;
            message.available_at = now;
            message.expires_at = now + retention;
            if dead_letter_source.is_none() {
                message.receive_count = 0;
                message.first_receive_ms = None;
            }
            message.content.dead_letter_source_arn = dead_letter_source.map(String::from);
            state.messages.push_back(message);
        }
    }

    /// Takes out up to `max` messages that are visible now, oldest first (a message move task).
    pub(super) fn take_visible(&self, max: usize) -> Vec<Message> {
        let now = Instant::now();
        let mut state = self.state();
        state.messages.retain(|m| m.expires_at > now);
        let mut taken = Vec::new();
        let mut index = 0;
        while index < state.messages.len() && taken.len() < max {
            if state.messages[index].available_at <= now {
                taken.extend(state.messages.remove(index));
            } else {
                index += 1;
            }
        }
        taken
    }

    /// How many messages are visible now.
    pub(super) fn visible_count(&self) -> usize {
        self.counts().0
    }

    /// Puts back messages that could not be redriven.
    pub(super) fn keep(&self, messages: Vec<Message>) {
        self.state().messages.extend(messages);
    }

    /// DeleteMessage. An outdated receipt handle of a message still queued succeeds without deleting, as on SQS.
    pub(super) fn delete(&self, receipt: &str) -> Result<(), SqsError> {
        let message_id = message_id_of(receipt).ok_or_else(|| SqsError::receipt(receipt))?;
        let mut state = self.state();
        if let Some(index) = state.messages.iter().position(|m| m.is_held_by(receipt, &message_id)) {
            state.messages.remove(index);
        }
        Ok(())
    }

    /// ChangeMessageVisibility: only for a message in flight with this receipt handle.
    pub(super) fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), SqsError> {
        if timeout.as_secs() > limits::MAX_VISIBILITY_TIMEOUT_SECONDS {
            return Err(SqsError::invalid(format!(
                "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.",
                timeout.as_secs()
            )));
        }
        let message_id = message_id_of(receipt).ok_or_else(|| SqsError::receipt(receipt))?;
        let now = Instant::now();
        let mut state = self.state();
        match state.messages.iter_mut().find(|m| m.is_held_by(receipt, &message_id)) {
            Some(message) if message.available_at > now => message.available_at = now + timeout,
            _ => {
                return Err(SqsError::new(
                    ErrorCode::MessageNotInflight,
                    "Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
                ))
            }
        }
        Ok(())
    }

    pub(super) fn purge(&self) {
        self.state().messages.clear();
    }
}

fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
