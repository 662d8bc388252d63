//! [`Sqs`], the service: every queue of the emulator by name, and the operations on them that the protocols (via
//! [`super::requests`]), the event source mappings and `serverless.yml` definitions all call. It wakes long
//! polls, redrives to dead-letter queues, and with `--persist` has every change written before it returns.

use super::durable::{Durability, Snapshot};
use super::error::{ErrorCode, SqsError};
use super::message::{NewMessage, Received, Sent};
use super::queue::{DeadLetters, Queue, Sending};
use super::settings::QueueSettings;
use crate::aws::names::{queue_arn, queue_url};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::time::Instant;

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
            let messages =
                snapshot.restore(|name, settings| sqs.add_queue(&mut sqs.queues.write().unwrap(), name, settings))?;
            tracing::info!(target: "sqs", "restored {} queues with {messages} messages from {}", sqs.queues.read().unwrap().len(), durability.path().display());
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
        queue.wake_receivers();
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
        let queues = self.queues.read().unwrap().values().cloned().collect::<Vec<_>>();
        Snapshot::of(&queues)
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
        Ok(self.add_queue(&mut queues, name, settings))
    }

    /// Adds an empty queue to `queues` (the registry, locked by the caller).
    fn add_queue(&self, queues: &mut BTreeMap<String, Arc<Queue>>, name: &str, settings: QueueSettings) -> Arc<Queue> {
        let queue = Queue::new(name, queue_url(&self.endpoint, name), queue_arn(&self.region, name), settings);
        let queue = Arc::new(queue);
        queues.insert(name.to_string(), queue.clone());
        self.changed(&queue);
        if !self.scratch {
            tracing::info!(target: "sqs", "queue {name} ready at {}", queue.url);
        }
        queue
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
        queue.set_settings(base);
        self.changed(queue);
        Ok(())
    }

    /// SendMessage: checks the message as SQS does and queues it (FIFO: deduplicated within 5 minutes).
    pub fn send(&self, queue: &Queue, message: NewMessage) -> Result<Sent, SqsError> {
        match queue.send(message)? {
            Sending::Queued(sent) => {
                self.changed(queue);
                Ok(sent)
            }
            Sending::Duplicate(sent) => Ok(sent),
        }
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
            let changed = queue.changes();
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

    /// One receive attempt; also returns when the next message becomes available. Messages received
    /// maxReceiveCount times go to the dead-letter queue instead.
    fn try_receive(&self, queue: &Queue, max: usize, visibility: Option<Duration>) -> (Vec<Received>, Option<Instant>) {
        let attempt = queue.try_receive(max, visibility);
        if !attempt.received.is_empty() {
            self.mark_unsaved();
        }
        if let Some(dead_letters) = attempt.dead_letters {
            self.move_to_dead_letter_queue(queue, dead_letters);
        }
        (attempt.received, attempt.next_available)
    }

    fn move_to_dead_letter_queue(&self, source: &Queue, dead_letters: DeadLetters) {
        let Ok(target) = self.queue_by_url(&dead_letters.target_arn) else {
            tracing::warn!(target: "sqs", "{}: dead-letter queue {} does not exist; messages stay", source.name, dead_letters.target_arn);
            source.keep(dead_letters.messages);
            return;
        };
        target.accept_dead_letters(source, dead_letters.messages);
        self.changed(&target);
    }

    /// DeleteMessage. An outdated receipt handle of a message still queued succeeds without deleting, as on SQS.
    pub fn delete(&self, queue: &Queue, receipt: &str) -> Result<(), SqsError> {
        queue.delete(receipt)?;
        self.changed(queue);
        Ok(())
    }

    /// ChangeMessageVisibility: only for a message in flight with this receipt handle.
    pub fn change_visibility(&self, queue: &Queue, receipt: &str, timeout: Duration) -> Result<(), SqsError> {
        queue.change_visibility(receipt, timeout)?;
        self.changed(queue);
        Ok(())
    }

    pub fn purge(&self, queue: &Queue) {
        queue.purge();
        self.changed(queue);
    }
}

impl Drop for Sqs {
    /// Wakes the durable writer, which finds the queues gone and ends.
    fn drop(&mut self) {
        self.mark_unsaved();
    }
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
