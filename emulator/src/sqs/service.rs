//! [`Sqs`], the service: every queue of the emulator by account, region and name, and the operations on them that
//! the protocols (via [`super::requests`]), the event source mappings and `serverless.yml` definitions all call:
//! queues, messages and permissions (tags are in [`super::tags`], the DLQ redrive in [`super::redrive`]). It wakes long polls,
//! redrives to dead-letter queues, and with `--persist` has every change written before it returns.

use super::checks::{check_queue_name, check_tags, named_queue};
use super::durable::{Durability, Snapshot};
use super::error::{ErrorCode, SqsError};
use super::message::{NewMessage, Received, Sent};
use super::move_tasks::MoveTasks;
use super::policy::{self, Permission};
use super::queue::{DeadLetters, Queue, Sending};
use super::settings::{QueueSettings, Setting};
use crate::aws::caller::Caller;
use crate::aws::names::{parse_queue_arn, parse_queue_url};
use crate::journal::{clip, Journal, What};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Where a queue is kept: its account, region and name, as its ARN says.
type QueueKey = (String, String, String);

fn key(place: &Caller, name: &str) -> QueueKey {
    (place.account.clone(), place.region.clone(), name.to_string())
}

/// Every queue of the emulator, in every account and region.
pub struct Sqs {
    /// The app's account and region: `serverless.yml`'s queues and unsigned requests are there.
    home: Caller,
    /// `http://127.0.0.1:4002`: queue URLs start here.
    endpoint: String,
    queues: RwLock<BTreeMap<QueueKey, Arc<Queue>>>,
    pub(super) move_tasks: MoveTasks,
    /// Queues for checking definitions only: they say nothing.
    scratch: bool,
    /// With `--persist`: where every change is written before it is acknowledged.
    durability: Option<Arc<Durability>>,
    /// Where messages sent, dead-lettered and moved are written.
    pub(super) journal: Arc<Journal>,
    /// This service, for the message move tasks it runs.
    pub(super) me: Weak<Sqs>,
}

impl Sqs {
    /// Queues in memory only, with a journal of their own.
    pub fn new(region: &str, endpoint: &str) -> Arc<Self> {
        Self::journaled(region, endpoint, Journal::new())
    }

    /// Queues in memory only, writing what happens to them into `journal`.
    pub fn journaled(region: &str, endpoint: &str, journal: Arc<Journal>) -> Arc<Self> {
        Self::build(region, endpoint, false, None, journal)
    }

    /// Queues to check definitions against (a live edit of `serverless.yml`) without logging them.
    pub fn scratch(region: &str, endpoint: &str) -> Arc<Self> {
        Self::build(region, endpoint, true, None, Journal::new())
    }

    /// Durable queues (`--persist`): restored from `file` if it exists, and written to it as they change (by a
    /// task that ends when the queues are dropped). Changes are on disk once [`Sqs::flushed`] returns.
    pub fn durable(region: &str, endpoint: &str, file: PathBuf, journal: Arc<Journal>) -> Result<Arc<Self>, String> {
        let durability = Durability::new(file);
        let sqs = Self::build(region, endpoint, false, Some(durability.clone()), journal);
        if let Some(snapshot) = durability.load()? {
            let messages = snapshot.restore(&sqs.home, |place, name, settings| {
                sqs.add_queue(&mut sqs.queues.write().unwrap(), place, name, settings)
            })?;
            tracing::info!(target: "sqs", "restored {} queues with {messages} messages from {}", sqs.queues.read().unwrap().len(), durability.path().display());
        }
        let weak = Arc::downgrade(&sqs);
        tokio::spawn(durability.run(move || weak.upgrade().map(|sqs| sqs.snapshot())));
        Ok(sqs)
    }

    fn build(
        region: &str,
        endpoint: &str,
        scratch: bool,
        durability: Option<Arc<Durability>>,
        journal: Arc<Journal>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            home: Caller::home(region),
            endpoint: endpoint.to_string(),
            queues: RwLock::new(BTreeMap::new()),
            move_tasks: MoveTasks::default(),
            scratch,
            durability,
            journal,
            me: me.clone(),
        })
    }

    /// The app's own account and region.
    pub fn home(&self) -> &Caller {
        &self.home
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
    pub(super) fn changed(&self, queue: &Queue) {
        queue.wake_receivers();
        self.mark_unsaved();
    }

    /// Have the queues written again (with `--persist`).
    pub(super) fn mark_unsaved(&self) {
        if let Some(durability) = &self.durability {
            durability.changed();
        }
    }

    /// Every queue and message as it is now, for the durable file.
    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.all_queues())
    }

    /// CreateQueue: idempotent when the attributes given mean what the queue's mean, as on SQS. The redrive
    /// policy's dead-letter queue must exist, be of the same type and allow this queue.
    pub fn create_queue(
        &self,
        caller: &Caller,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Arc<Queue>, SqsError> {
        let settings = QueueSettings::for_new_queue(name, attributes)?;
        check_queue_name(name, attributes.get("FifoQueue").is_some_and(|v| v == "true"))?;
        if let Ok(existing) = self.queue(caller, name) {
            let current = existing.settings();
            let named = current.settings_named(attributes)?;
            return match named.into_iter().find(|setting| !settings.agrees_with(&current, *setting)) {
                None => Ok(existing),
                Some(differs) => Err(SqsError::new(
                    ErrorCode::QueueNameExists,
                    format!(
                        "A queue already exists with the same name and a different value for attribute {}",
                        differs.name()
                    ),
                )),
            };
        }
        let arn = crate::aws::names::queue_arn_in(&caller.account, &caller.region, name);
        self.check_redrive(&arn, &settings, attributes)?;
        check_tags(tags).map_err(|err| named_queue(err, name))?;
        let mut queues = self.queues.write().unwrap();
        if let Some(existing) = queues.get(&key(caller, name)) {
            return Ok(existing.clone()); // created meanwhile by another request
        }
        let queue = self.add_queue(&mut queues, caller, name, settings);
        queue.change_tags(|current| {
            current.extend(tags.clone());
            Ok(())
        })?;
        Ok(queue)
    }

    /// Adds an empty queue to `queues` (the registry, locked by the caller).
    fn add_queue(
        &self,
        queues: &mut BTreeMap<QueueKey, Arc<Queue>>,
        place: &Caller,
        name: &str,
        settings: QueueSettings,
    ) -> Arc<Queue> {
        let queue = Arc::new(Queue::new(name, place.clone(), &self.endpoint, settings));
        queues.insert(key(place, name), queue.clone());
        self.changed(&queue);
        if !self.scratch {
            tracing::info!(target: "sqs", "queue {name} ready at {}", queue.url);
        }
        queue
    }

    /// Brings a queue of the app to a definition from `serverless.yml`: creates it, or gives an existing one
    /// exactly these attributes (the rest back to SQS's defaults) and tags, keeping its messages. For start-up
    /// and live edits. (Dead-letter queues are checked by the plan: it may define them after their sources.)
    pub fn define_queue(
        &self,
        name: &str,
        attributes: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Arc<Queue>, SqsError> {
        check_tags(tags).map_err(|err| named_queue(err, name))?;
        let queue = match self.queue(&self.home, name) {
            Ok(existing) => {
                let defaults = QueueSettings { fifo: existing.settings().fifo, ..QueueSettings::default() };
                self.reconfigure(&existing, defaults, attributes)?;
                existing
            }
            Err(_) => {
                check_queue_name(name, attributes.get("FifoQueue").is_some_and(|v| v == "true"))?;
                let settings = QueueSettings::for_new_queue(name, attributes)?;
                self.add_queue(&mut self.queues.write().unwrap(), &self.home.clone(), name, settings)
            }
        };
        queue.change_tags(|current| {
            *current = tags.clone();
            Ok(())
        })?;
        Ok(queue)
    }

    /// A queue of the app (its account and region, where `serverless.yml`'s queues are), by name.
    pub fn app_queue(&self, name: &str) -> Result<Arc<Queue>, SqsError> {
        self.queue(&self.home, name)
    }

    /// A queue of the caller's account and region, by name.
    pub fn queue(&self, caller: &Caller, name: &str) -> Result<Arc<Queue>, SqsError> {
        self.queues.read().unwrap().get(&key(caller, name)).cloned().ok_or_else(SqsError::no_queue)
    }

    /// A queue by URL (any host: SDKs may rewrite it; the path's account, the caller's region) or by ARN.
    pub fn queue_by_url(&self, caller: &Caller, url: &str) -> Result<Arc<Queue>, SqsError> {
        if url.starts_with("arn:") {
            return self.queue_by_arn(url);
        }
        let (account, name) = match parse_queue_url(url) {
            Some((account, name)) => (account.to_string(), name),
            None => (caller.account.clone(), url.trim_end_matches('/').rsplit('/').next().unwrap_or_default()),
        };
        let place = Caller { account, region: caller.region.clone() };
        self.queue(&place, name).inspect_err(|_| self.hint_other_region(&place, name))
    }

    /// A queue asked for in one region but found only in others: say so in the log (the answer stays SQS's).
    fn hint_other_region(&self, asked: &Caller, name: &str) {
        let elsewhere: Vec<String> = self
            .all_queues()
            .iter()
            .filter(|q| q.name == name && q.place.account == asked.account)
            .map(|q| q.place.region.clone())
            .collect();
        if !elsewhere.is_empty() {
            tracing::warn!(target: "sqs", "queue {name} does not exist in {}, the region the request is signed for, but in {}: sign for that region (AWS_REGION or the SDK's region)", asked.region, elsewhere.join(", "));
        }
    }

    /// A queue by ARN, in whichever account and region it names.
    pub fn queue_by_arn(&self, arn: &str) -> Result<Arc<Queue>, SqsError> {
        let (region, account, name) = parse_queue_arn(arn).ok_or_else(SqsError::no_queue)?;
        self.queue(&Caller { account: account.to_string(), region: region.to_string() }, name)
    }

    /// The caller's queues (its account, its region), by name.
    pub fn list_queues(&self, caller: &Caller, prefix: Option<&str>) -> Vec<Arc<Queue>> {
        self.queues
            .read()
            .unwrap()
            .values()
            .filter(|q| q.place == *caller && prefix.is_none_or(|p| q.name.starts_with(p)))
            .cloned()
            .collect()
    }

    fn all_queues(&self) -> Vec<Arc<Queue>> {
        self.queues.read().unwrap().values().cloned().collect()
    }

    pub fn delete_queue(&self, queue: &Queue) {
        self.queues.write().unwrap().remove(&key(&queue.place, &queue.name));
        self.changed(queue);
    }

    /// Source queues whose redrive policy targets `queue`.
    pub fn dead_letter_sources(&self, queue: &Queue) -> Vec<Arc<Queue>> {
        self.all_queues()
            .into_iter()
            .filter(|q| q.settings().redrive.is_some_and(|r| r.dead_letter_target_arn == queue.arn))
            .collect()
    }

    /// SetQueueAttributes, with the same checks as CreateQueue.
    pub fn set_attributes(&self, queue: &Queue, attributes: &BTreeMap<String, String>) -> Result<(), SqsError> {
        let mut settings = queue.settings();
        settings.apply(attributes)?;
        self.check_redrive(&queue.arn, &settings, attributes)?;
        queue.set_settings(settings);
        self.changed(queue);
        Ok(())
    }

    /// A queue's own redrive policy, checked as CreateQueue checks it (for queues from `serverless.yml`).
    pub fn check_dead_letter_queue(&self, queue: &Queue) -> Result<(), SqsError> {
        let settings = queue.settings();
        let attributes: BTreeMap<String, String> = settings
            .value(Setting::RedrivePolicy)
            .map(|policy| (Setting::RedrivePolicy.name().to_string(), policy))
            .into_iter()
            .collect();
        self.check_redrive(&queue.arn, &settings, &attributes)
    }

    /// The redrive policy `attributes` give, if any: its dead-letter queue exists, is of the source's type, and
    /// lets `source_arn` use it. Errors quote the policy as given.
    fn check_redrive(
        &self,
        source_arn: &str,
        settings: &QueueSettings,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), SqsError> {
        let (Some(given), Some(redrive)) = (attributes.get(Setting::RedrivePolicy.name()), &settings.redrive) else {
            return Ok(());
        };
        let refuse = |reason: &str| {
            SqsError::invalid(format!("Value {given} for parameter RedrivePolicy is invalid. Reason: {reason}"))
        };
        let target = self
            .queue_by_arn(&redrive.dead_letter_target_arn)
            .map_err(|_| refuse("Dead letter target does not exist."))?;
        if target.settings().fifo != settings.fifo {
            return Err(refuse("Dead-letter queue must be same type of queue as the source.."));
        }
        if target.settings().redrive_allow.is_some_and(|allow| !allow.allows(source_arn)) {
            return Err(refuse("Dead-letter queue's RedriveAllowPolicy does not allow this queue as a source."));
        }
        Ok(())
    }

    /// AddPermission: a statement in the queue's `Policy`.
    pub fn add_permission(&self, queue: &Queue, permission: &Permission) -> Result<(), SqsError> {
        let mut settings = queue.settings();
        settings.policy = Some(policy::add_permission(settings.policy.as_ref(), &queue.arn, permission)?);
        queue.set_settings(settings);
        self.changed(queue);
        Ok(())
    }

    /// RemovePermission: the statement labelled `label` leaves the queue's `Policy` (and the last one, the policy).
    pub fn remove_permission(&self, queue: &Queue, label: &str) -> Result<(), SqsError> {
        let mut settings = queue.settings();
        settings.policy = policy::remove_permission(settings.policy.as_ref(), label)?;
        queue.set_settings(settings);
        self.changed(queue);
        Ok(())
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
        let body = self.journal.is_enabled().then(|| clip(&message.body));
        match queue.send(message)? {
            Sending::Queued(sent) => {
                self.journal.record(|| What::MessageSent {
                    queue: queue.name.clone(),
                    message_id: sent.message_id.clone(),
                    body: body.unwrap_or_default(),
                });
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
        let Ok(target) = self.queue_by_arn(&dead_letters.target_arn) else {
            tracing::warn!(target: "sqs", "{}: dead-letter queue {} does not exist; messages stay", source.name, dead_letters.target_arn);
            source.keep(dead_letters.messages);
            return;
        };
        for message in &dead_letters.messages {
            self.journal.record(|| What::DeadLettered {
                queue: source.name.clone(),
                dead_letter_queue: target.name.clone(),
                message_id: message.content.id.clone(),
                receives: message.receive_count,
            });
        }
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
