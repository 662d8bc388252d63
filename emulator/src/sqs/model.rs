//! Queues and messages with SQS's semantics: at-least-once delivery, visibility timeouts, delays, retention,
//! ApproximateReceiveCount, redrive to a dead-letter queue after maxReceiveCount, FIFO ordering per message group
//! and deduplication. No wire format here: the protocols and the event source mappings call these methods.

use super::digest::{md5_of_attributes, md5_of_body};
use super::durable::{AttributeRecord, Durability, MessageRecord, QueueRecord, Snapshot};
use super::error::{ErrorCode, SqsError};
use super::message::{AttributeValue, NewMessage, Received, Sent};
use super::settings::{QueueSettings, Setting};
use crate::aws::sqs as limits;
use crate::aws::ACCOUNT_ID;
use base64::Engine;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::time::Instant;

/// One reading of both clocks, to turn the monotonic instants messages keep into epoch milliseconds and back.
struct Clock {
    instant: Instant,
    epoch_ms: u64,
}

impl Clock {
    fn now() -> Self {
        Self { instant: Instant::now(), epoch_ms: epoch_ms() }
    }

    fn epoch_ms(&self, at: Instant) -> u64 {
        if at >= self.instant {
            self.epoch_ms + (at - self.instant).as_millis() as u64
        } else {
            self.epoch_ms.saturating_sub((self.instant - at).as_millis() as u64)
        }
    }

    fn instant(&self, epoch_ms: u64) -> Instant {
        if epoch_ms >= self.epoch_ms {
            self.instant + Duration::from_millis(epoch_ms - self.epoch_ms)
        } else {
            self.instant.checked_sub(Duration::from_millis(self.epoch_ms - epoch_ms)).unwrap_or(self.instant)
        }
    }
}

impl Message {
    fn record(&self, clock: &Clock) -> MessageRecord {
        MessageRecord {
            id: self.id.clone(),
            body: self.body.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|(name, v)| {
                    let value = AttributeRecord {
                        data_type: v.data_type.clone(),
                        string: v.string.clone(),
                        binary: v.binary.clone(),
                    };
                    (name.clone(), value)
                })
                .collect(),
            md5_body: self.md5_body.clone(),
            md5_attributes: self.md5_attributes.clone(),
            sent_ms: self.sent_ms,
            available_at_ms: clock.epoch_ms(self.available_at),
            expires_at_ms: clock.epoch_ms(self.expires_at),
            receive_count: self.receive_count,
            first_receive_ms: self.first_receive_ms,
            receipt: self.receipt.clone(),
            group_id: self.group_id.clone(),
            deduplication_id: self.deduplication_id.clone(),
            sequence_number: self.sequence_number.clone(),
        }
    }

    fn from_record(record: MessageRecord, clock: &Clock) -> Self {
        Self {
            id: record.id,
            body: record.body,
            attributes: record
                .attributes
                .into_iter()
                .map(|(name, v)| (name, AttributeValue { data_type: v.data_type, string: v.string, binary: v.binary }))
                .collect(),
            md5_body: record.md5_body,
            md5_attributes: record.md5_attributes,
            sent_ms: record.sent_ms,
            available_at: clock.instant(record.available_at_ms),
            expires_at: clock.instant(record.expires_at_ms),
            receive_count: record.receive_count,
            first_receive_ms: record.first_receive_ms,
            receipt: record.receipt,
            group_id: record.group_id,
            deduplication_id: record.deduplication_id,
            sequence_number: record.sequence_number,
        }
    }
}

/// A message in a queue.
#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    attributes: BTreeMap<String, AttributeValue>,
    md5_body: String,
    md5_attributes: Option<String>,
    sent_ms: u64,
    /// When it may next be received (delay, then visibility timeout).
    available_at: Instant,
    expires_at: Instant,
    receive_count: u32,
    first_receive_ms: Option<u64>,
    receipt: Option<String>,
    group_id: Option<String>,
    deduplication_id: Option<String>,
    sequence_number: Option<String>,
}

pub struct Queue {
    pub name: String,
    pub url: String,
    pub arn: String,
    created: SystemTime,
    modified: Mutex<SystemTime>,
    settings: Mutex<QueueSettings>,
    state: Mutex<QueueState>,
    changed: Notify,
}

#[derive(Default)]
struct QueueState {
    messages: VecDeque<Message>,
    /// FIFO deduplication ids seen within the window, with when they expire and the message id they produced.
    deduplication: HashMap<String, (Instant, String)>,
    next_sequence: u64,
}

impl Queue {
    pub fn settings(&self) -> QueueSettings {
        self.settings.lock().unwrap().clone()
    }

    /// Queue attributes as GetQueueAttributes returns them.
    pub fn attributes(&self) -> BTreeMap<String, String> {
        let settings = self.settings();
        let now = Instant::now();
        let state = self.state.lock().unwrap();
        let (mut visible, mut in_flight, mut delayed) = (0, 0, 0);
        for message in state.messages.iter().filter(|m| m.expires_at > now) {
            match (message.available_at <= now, message.receipt.is_some()) {
                (true, _) => visible += 1,
                (false, true) => in_flight += 1,
                (false, false) => delayed += 1,
            }
        }
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
        put("SqsManagedSseEnabled", "false".to_string());
        for setting in Setting::ALL {
            if let Some(value) = settings.value(setting) {
                put(setting.name(), value);
            }
        }
        attributes
    }
}

/// Every queue of the emulator.
pub struct Sqs {
    region: String,
    /// `http://127.0.0.1:4002`: queue URLs start here.
    endpoint: String,
    queues: RwLock<BTreeMap<String, Arc<Queue>>>,
    /// Queues for checking definitions only: they say nothing.
    scratch: bool,
    /// With `--persist`: where every change is written before it is acknowledged.
    durability: Option<Arc<Durability>>,
}

impl Sqs {
    /// Queues in memory only.
    pub fn new(region: &str, endpoint: &str) -> Arc<Self> {
        Self::build(region, endpoint, false, None)
    }

    /// Queues to check definitions against (a live edit of `serverless.yml`) without logging them.
    pub fn scratch(region: &str, endpoint: &str) -> Arc<Self> {
        Self::build(region, endpoint, true, None)
    }

    /// Durable queues (`--persist`): restored from `file` if it exists, and written to it as they change (by a
    /// task that ends when the queues are dropped). Changes are on disk once [`Sqs::flushed`] returns.
    pub fn durable(region: &str, endpoint: &str, file: PathBuf) -> Result<Arc<Self>, String> {
        let durability = Durability::new(file);
        let sqs = Self::build(region, endpoint, false, Some(durability.clone()));
        if let Some(snapshot) = durability.load()? {
            sqs.restore(snapshot)?;
        }
        let weak = Arc::downgrade(&sqs);
        tokio::spawn(durability.run(move || weak.upgrade().map(|sqs| sqs.snapshot())));
        Ok(sqs)
    }

    fn build(region: &str, endpoint: &str, scratch: bool, durability: Option<Arc<Durability>>) -> Arc<Self> {
        let queues = RwLock::new(BTreeMap::new());
        Arc::new(Self { region: region.to_string(), endpoint: endpoint.to_string(), queues, scratch, durability })
    }

    /// Where the queues are written, with `--persist`.
    pub fn durable_file(&self) -> Option<&std::path::Path> {
        self.durability.as_deref().map(Durability::path)
    }

    /// Waits until every change so far is on disk (at once without `--persist`). Requests are answered after it.
    pub async fn flushed(&self) {
        if let Some(durability) = &self.durability {
            durability.flushed().await;
        }
    }

    /// A queue's messages or settings changed: wake its long polls and have the change written.
    fn changed(&self, queue: &Queue) {
        queue.changed.notify_waiters();
        self.mark_unsaved();
    }

    /// Have the queues written again (with `--persist`).
    fn mark_unsaved(&self) {
        if let Some(durability) = &self.durability {
            durability.changed();
        }
    }

    /// Every queue and message as it is now, for the durable file.
    fn snapshot(&self) -> Snapshot {
        let clock = Clock::now();
        let queues = self.queues.read().unwrap().values().cloned().collect::<Vec<_>>();
        let queues = queues
            .iter()
            .map(|queue| {
                let attributes =
                    queue.attributes().into_iter().filter(|(name, _)| Setting::from_name(name).is_some()).collect();
                let state = queue.state.lock().unwrap();
                QueueRecord {
                    name: queue.name.clone(),
                    attributes,
                    next_sequence: state.next_sequence,
                    deduplication: state
                        .deduplication
                        .iter()
                        .map(|(id, (expires, message))| (id.clone(), (clock.epoch_ms(*expires), message.clone())))
                        .collect(),
                    messages: state.messages.iter().map(|m| m.record(&clock)).collect(),
                }
            })
            .collect();
        Snapshot { queues }
    }

    /// Puts back the queues and messages of a snapshot.
    fn restore(&self, snapshot: Snapshot) -> Result<(), String> {
        let clock = Clock::now();
        let mut messages = 0;
        for record in snapshot.queues {
            let queue = self
                .create_queue(&record.name, &record.attributes)
                .map_err(|err| format!("the saved queue {} cannot be restored: {}", record.name, err.message))?;
            let mut state = queue.state.lock().unwrap();
            state.next_sequence = record.next_sequence;
            state.deduplication = record
                .deduplication
                .into_iter()
                .map(|(id, (expires, message))| (id, (clock.instant(expires), message)))
                .collect();
            messages += record.messages.len();
            state.messages = record.messages.into_iter().map(|m| Message::from_record(m, &clock)).collect();
        }
        tracing::info!(target: "sqs", "restored {} queues with {messages} messages from {}", self.queues.read().unwrap().len(), self.durable_file().map(|p| p.display().to_string()).unwrap_or_default());
        Ok(())
    }

    /// CreateQueue: idempotent for the same attributes, as SQS is.
    pub fn create_queue(&self, name: &str, attributes: &BTreeMap<String, String>) -> Result<Arc<Queue>, SqsError> {
        validate_name(name, attributes.get("FifoQueue").is_some_and(|v| v == "true"))?;
        let settings = QueueSettings::for_new_queue(name, attributes)?;
        let mut queues = self.queues.write().unwrap();
        if let Some(existing) = queues.get(name) {
            let same = attributes.iter().all(|(k, v)| existing.attributes().get(k).is_none_or(|current| current == v));
            return if same {
                Ok(existing.clone())
            } else {
                Err(SqsError::new(
                    ErrorCode::QueueAlreadyExists,
                    format!(
                        "A queue already exists with the same name and a different value for attribute(s) of {name}"
                    ),
                ))
            };
        }
        let queue = Arc::new(Queue {
            name: name.to_string(),
            url: crate::aws::names::queue_url(&self.endpoint, name),
            arn: crate::aws::names::queue_arn(&self.region, name),
            created: SystemTime::now(),
            modified: Mutex::new(SystemTime::now()),
            settings: Mutex::new(settings),
            state: Mutex::new(QueueState::default()),
            changed: Notify::new(),
        });
        queues.insert(name.to_string(), queue.clone());
        drop(queues);
        self.changed(&queue);
        if !self.scratch {
            tracing::info!(target: "sqs", "queue {name} ready at {}", queue.url);
        }
        Ok(queue)
    }

    /// Brings a queue to a definition from `serverless.yml`: creates it, or gives an existing one exactly these
    /// attributes (the rest back to SQS's defaults), keeping its messages. For start-up and live edits.
    pub fn define_queue(&self, name: &str, attributes: &BTreeMap<String, String>) -> Result<Arc<Queue>, SqsError> {
        let Ok(existing) = self.queue(name) else {
            return self.create_queue(name, attributes);
        };
        let defaults = QueueSettings { fifo: existing.settings().fifo, ..QueueSettings::default() };
        self.reconfigure(&existing, defaults, attributes)?;
        Ok(existing)
    }

    pub fn queue(&self, name: &str) -> Result<Arc<Queue>, SqsError> {
        self.queues.read().unwrap().get(name).cloned().ok_or_else(SqsError::no_queue)
    }

    /// A queue by URL (any host: SDKs may rewrite it) or by ARN.
    pub fn queue_by_url(&self, url: &str) -> Result<Arc<Queue>, SqsError> {
        let name = url.trim_end_matches('/').rsplit(['/', ':']).next().unwrap_or_default();
        self.queue(name)
    }

    pub fn list_queues(&self, prefix: Option<&str>) -> Vec<Arc<Queue>> {
        self.queues.read().unwrap().values().filter(|q| prefix.is_none_or(|p| q.name.starts_with(p))).cloned().collect()
    }

    pub fn delete_queue(&self, queue: &Queue) {
        self.queues.write().unwrap().remove(&queue.name);
        self.changed(queue);
    }

    /// Source queues whose redrive policy targets `queue`.
    pub fn dead_letter_sources(&self, queue: &Queue) -> Vec<Arc<Queue>> {
        self.list_queues(None)
            .into_iter()
            .filter(|q| q.settings().redrive.is_some_and(|r| r.dead_letter_target_arn == queue.arn))
            .collect()
    }

    pub fn set_attributes(&self, queue: &Queue, attributes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        self.reconfigure(queue, queue.settings(), attributes)
    }

    /// Gives `queue` the settings `base` with `attributes` applied (nothing changes if one is invalid).
    fn reconfigure(
        &self,
        queue: &Queue,
        mut base: QueueSettings,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        base.apply(attributes)?;
        *queue.settings.lock().unwrap() = base;
        *queue.modified.lock().unwrap() = SystemTime::now();
        self.changed(queue);
        Ok(())
    }

    /// SendMessage, with SQS's checks of the message.
    pub fn send(&self, queue: &Queue, message: NewMessage) -> Result<Sent, SqsError> {
        let settings = queue.settings();
        check_message(&message, &settings)?;
        let now = Instant::now();
        let md5_body = md5_of_body(&message.body);
        let md5_attributes = md5_of_attributes(&message.attributes);
        let mut state = queue.state.lock().unwrap();
        let (group_id, deduplication_id, delay) = if settings.fifo {
            let group = message.group_id.clone().ok_or_else(|| SqsError::missing("MessageGroupId"))?;
            let dedup = match (&message.deduplication_id, settings.content_based_deduplication) {
                (Some(id), _) => id.clone(),
                (None, true) => md5_of_body(&message.body),
                (None, false) => {
                    return Err(SqsError::invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"))
                }
            };
            state.deduplication.retain(|_, (expires, _)| *expires > now);
            if let Some((_, existing)) = state.deduplication.get(&dedup) {
                let existing = existing.clone();
                return Ok(Sent { message_id: existing, md5_body, md5_attributes, sequence_number: None });
            }
            if message.delay.is_some_and(|d| !d.is_zero()) {
                return Err(SqsError::invalid("Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."));
            }
            (Some(group), Some(dedup), settings.delay)
        } else {
            (None, None, message.delay.unwrap_or(settings.delay))
        };
        let id = uuid::Uuid::new_v4().to_string();
        let sequence_number = settings.fifo.then(|| {
            state.next_sequence += 1;
            format!("{:020}", state.next_sequence)
        });
        if let Some(dedup) = &deduplication_id {
            state.deduplication.insert(dedup.clone(), (now + limits::DEDUPLICATION_WINDOW, id.clone()));
        }
        state.messages.push_back(Message {
            id: id.clone(),
            body: message.body,
            attributes: message.attributes,
            md5_body: md5_body.clone(),
            md5_attributes: md5_attributes.clone(),
            sent_ms: epoch_ms(),
            available_at: now + delay,
            expires_at: now + settings.retention,
            receive_count: 0,
            first_receive_ms: None,
            receipt: None,
            group_id,
            deduplication_id,
            sequence_number: sequence_number.clone(),
        });
        drop(state);
        self.changed(queue);
        tracing::debug!(target: "sqs", "sent {id} to {}", queue.name);
        Ok(Sent { message_id: id, md5_body, md5_attributes, sequence_number })
    }

    /// ReceiveMessage, waiting up to `wait` (long polling) for at least one message.
    pub async fn receive(
        &self,
        queue: &Queue,
        max: usize,
        visibility: Option<Duration>,
        wait: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + wait;
        loop {
            let changed = queue.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let (received, next_available) = self.try_receive(queue, max, visibility);
            let now = Instant::now();
            if !received.is_empty() || now >= deadline {
                return received;
            }
            let wake = next_available.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// One receive attempt; also returns when the next message becomes available.
    fn try_receive(&self, queue: &Queue, max: usize, visibility: Option<Duration>) -> (Vec<Received>, Option<Instant>) {
        let settings = queue.settings();
        let visibility = visibility.unwrap_or(settings.visibility_timeout);
        let now = Instant::now();
        let mut state = queue.state.lock().unwrap();
        state.messages.retain(|m| m.expires_at > now);
        let mut received = Vec::new();
        let mut to_dead_letter = Vec::new();
        let mut busy_groups = HashSet::new();
        let mut next_available: Option<Instant> = None;
        for (index, message) in state.messages.iter_mut().enumerate() {
            if received.len() >= max {
                break;
            }
            if message.available_at > now {
                next_available = Some(next_available.map_or(message.available_at, |n| n.min(message.available_at)));
                if let Some(group) = &message.group_id {
                    busy_groups.insert(group.clone());
                }
                continue;
            }
            if message.group_id.as_ref().is_some_and(|g| busy_groups.contains(g)) {
                continue;
            }
            if let Some(redrive) = &settings.redrive {
                if message.receive_count >= redrive.max_receive_count {
                    to_dead_letter.push(index);
                    continue;
                }
            }
            message.receive_count += 1;
            message.first_receive_ms.get_or_insert_with(epoch_ms);
            let receipt = receipt_handle(&message.id);
            message.receipt = Some(receipt.clone());
            message.available_at = now + visibility;
            received.push(Received {
                message_id: message.id.clone(),
                receipt_handle: receipt,
                body: message.body.clone(),
                md5_body: message.md5_body.clone(),
                md5_attributes: message.md5_attributes.clone(),
                attributes: message.attributes.clone(),
                system: system_attributes(message),
            });
        }
        if !received.is_empty() {
            tracing::debug!(target: "sqs", "received {} from {}", received.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>().join(", "), queue.name);
        }
        let moved: Vec<Message> = to_dead_letter.into_iter().rev().filter_map(|i| state.messages.remove(i)).collect();
        drop(state);
        if !received.is_empty() {
            self.mark_unsaved();
        }
        if !moved.is_empty() {
            self.move_to_dead_letter_queue(queue, &settings, moved);
        }
        (received, next_available)
    }

    fn move_to_dead_letter_queue(&self, source: &Queue, settings: &QueueSettings, messages: Vec<Message>) {
        let redrive = settings.redrive.as_ref().expect("only redriven queues move messages");
        let Ok(target) = self.queue_by_url(&redrive.dead_letter_target_arn) else {
            tracing::warn!(target: "sqs", "{}: dead-letter queue {} does not exist; messages stay", source.name, redrive.dead_letter_target_arn);
            let mut state = source.state.lock().unwrap();
            state.messages.extend(messages);
            return;
        };
        let retention = target.settings().retention;
        let mut state = target.state.lock().unwrap();
        for mut message in messages {
            tracing::info!(target: "sqs", "moved {} from {} to dead-letter queue {} after {} receives", message.id, source.name, target.name, message.receive_count);
            message.receipt = None;
            message.available_at = Instant::now();
            message.expires_at = Instant::now() + retention;
            message.receive_count = 0;
            message.first_receive_ms = None;
            state.messages.push_back(message);
        }
        drop(state);
        self.changed(&target);
    }

    /// DeleteMessage. An outdated receipt handle of a message still queued succeeds without deleting, as on SQS.
    pub fn delete(&self, queue: &Queue, receipt: &str) -> Result<(), SqsError> {
        let message_id = message_id_of(receipt).ok_or_else(|| SqsError::receipt(receipt))?;
        let mut state = queue.state.lock().unwrap();
        if let Some(index) =
            state.messages.iter().position(|m| m.id == message_id && m.receipt.as_deref() == Some(receipt))
        {
            state.messages.remove(index);
        }
        drop(state);
        self.changed(queue);
        Ok(())
    }

    /// ChangeMessageVisibility: only for a message in flight with this receipt handle.
    pub fn change_visibility(&self, queue: &Queue, receipt: &str, timeout: Duration) -> Result<(), SqsError> {
        if timeout.as_secs() > limits::MAX_VISIBILITY_TIMEOUT_SECONDS {
            return Err(SqsError::invalid(format!(
                "Value {} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.",
                timeout.as_secs()
            )));
        }
        let message_id = message_id_of(receipt).ok_or_else(|| SqsError::receipt(receipt))?;
        let now = Instant::now();
        let mut state = queue.state.lock().unwrap();
        let message = state.messages.iter_mut().find(|m| m.id == message_id && m.receipt.as_deref() == Some(receipt));
        match message {
            Some(message) if message.available_at > now => message.available_at = now + timeout,
            _ => {
                return Err(SqsError::new(
                    ErrorCode::MessageNotInflight,
                    "Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
                ))
            }
        }
        drop(state);
        self.changed(queue);
        Ok(())
    }

    pub fn purge(&self, queue: &Queue) {
        queue.state.lock().unwrap().messages.clear();
        self.changed(queue);
    }
}

impl Drop for Sqs {
    /// Wakes the durable writer, which finds the queues gone and ends.
    fn drop(&mut self) {
        self.mark_unsaved();
    }
}

fn system_attributes(message: &Message) -> BTreeMap<String, String> {
    let mut system = BTreeMap::new();
    system.insert("SenderId".to_string(), ACCOUNT_ID.to_string());
    system.insert("SentTimestamp".to_string(), message.sent_ms.to_string());
    system.insert("ApproximateReceiveCount".to_string(), message.receive_count.to_string());
    if let Some(first) = message.first_receive_ms {
        system.insert("ApproximateFirstReceiveTimestamp".to_string(), first.to_string());
    }
    if let Some(group) = &message.group_id {
        system.insert("MessageGroupId".to_string(), group.clone());
    }
    if let Some(dedup) = &message.deduplication_id {
        system.insert("MessageDeduplicationId".to_string(), dedup.clone());
    }
    if let Some(sequence) = &message.sequence_number {
        system.insert("SequenceNumber".to_string(), sequence.clone());
    }
    system
}

/// An opaque receipt handle that names its message and this receive.
fn receipt_handle(message_id: &str) -> String {
    let raw = format!("{message_id}#{}", uuid::Uuid::new_v4().simple());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn message_id_of(receipt: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(receipt.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.split_once('#').map(|(id, _)| id.to_string())
}

fn validate_name(name: &str, fifo_attribute: bool) -> Result<(), SqsError> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let valid =
        !base.is_empty() && name.len() <= 80 && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(SqsError::invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    if fifo_attribute != name.ends_with(".fifo") {
        return Err(SqsError::invalid("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."));
    }
    Ok(())
}

/// SQS's checks of a message before it is queued: delay, attribute types, size, body.
fn check_message(message: &NewMessage, settings: &QueueSettings) -> Result<(), SqsError> {
    if let Some(delay) = message.delay.map(|d| d.as_secs()).filter(|d| *d > limits::MAX_DELAY_SECONDS) {
        return Err(SqsError::invalid(format!(
            "Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )));
    }
    for (name, value) in &message.attributes {
        let base = value.data_type.split('.').next().unwrap_or_default();
        let ok = match base {
            "String" | "Number" => value.string.is_some(),
            "Binary" => value.binary.is_some(),
            _ => false,
        };
        if !ok {
            return Err(SqsError::invalid(format!("The message attribute '{name}' has an invalid message attribute type or value: DataType must be String, Number or Binary (optionally with a custom suffix) with the matching value.")));
        }
    }
    let size = message.body.len()
        + message
            .attributes
            .iter()
            .map(|(k, v)| {
                k.len()
                    + v.data_type.len()
                    + v.string.as_ref().map_or(0, String::len)
                    + v.binary.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>();
    if size > settings.max_message_size {
        return Err(SqsError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
            settings.max_message_size
        )));
    }
    if message.body.is_empty() {
        return Err(SqsError::missing("MessageBody"));
    }
    if message.body.chars().any(|c| !valid_message_char(c)) {
        // Since 2025 SQS rejects such a message (earlier it replaced the characters with U+FFFD).
        return Err(SqsError::new(ErrorCode::InvalidMessageContents, "Invalid binary character in the message body: SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"));
    }
    Ok(())
}

fn valid_message_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
