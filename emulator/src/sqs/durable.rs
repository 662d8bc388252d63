//! Durable queues (`--persist`): the queues and every message in them (visible, in flight, delayed, in a
//! dead-letter queue) are written to `.ftb-offline/<stage>/sqs.json` beside `serverless.yml`, crash-safely (a
//! temporary file, fsync, rename, fsync of the folder), before the request that changed them is answered. So a
//! `kill -9` of the emulator loses no message it acknowledged, and a restart with `--persist` finds them all.
//!
//! Writes are grouped: one snapshot covers every change made while the previous one was being written, so a
//! busy queue costs one write per round, not one per message. The records are the model's own types, serialised
//! by serde; only instants become milliseconds since the epoch.

use super::message::{Content, Message};
use super::queue::Queue;
use super::settings::QueueSettings;
use crate::aws::caller::Caller;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// The file, relative to the stage's state folder.
pub const FILE: &str = "sqs.json";

/// What is written: every queue with its settings and messages. Times are milliseconds since the epoch.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Snapshot {
    queues: Vec<QueueRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct QueueRecord {
    name: String,
    /// Snapshots from before queues had an account and region hold the app's queues only.
    #[serde(default)]
    place: Option<Caller>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(alias = "attributes")]
    settings: SavedSettings,
    next_sequence: u64,
    /// FIFO deduplication ids still in their window: id → (expires at, message id).
    deduplication: BTreeMap<String, (u64, String)>,
    messages: Vec<MessageRecord>,
}

/// A queue's settings in a snapshot. Snapshots written before the settings were typed hold the attributes
/// CreateQueue takes, under `attributes`; they are still read.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum SavedSettings {
    /// Boxed: a snapshot holds one per queue, and the old form is a small map.
    Typed(Box<QueueSettings>),
    Attributes(BTreeMap<String, String>),
}

#[derive(Debug, Serialize, Deserialize)]
struct MessageRecord {
    #[serde(flatten)]
    content: Content,
    available_at_ms: u64,
    expires_at_ms: u64,
    receive_count: u32,
    first_receive_ms: Option<u64>,
    receipt: Option<String>,
}

impl Snapshot {
    /// Every queue and message as it is now.
    pub(super) fn of(queues: &[Arc<Queue>]) -> Self {
        let clock = Clock::now();
        Self { queues: queues.iter().map(|queue| QueueRecord::of(queue, &clock)).collect() }
    }

    /// Puts back the queues and messages of the snapshot; `add_queue` creates an empty queue. Returns how many
    /// messages it restored.
    pub(super) fn restore(
        self,
        home: &Caller,
        add_queue: impl Fn(&Caller, &str, QueueSettings) -> Arc<Queue>,
    ) -> Result<usize, String> {
        let clock = Clock::now();
        let mut messages = 0;
        for record in self.queues {
            let settings = match record.settings {
                SavedSettings::Typed(settings) => *settings,
                SavedSettings::Attributes(attributes) => QueueSettings::for_new_queue(&record.name, &attributes)
                    .map_err(|err| format!("the saved queue {} cannot be restored: {}", record.name, err.message))?,
            };
            let queue = add_queue(record.place.as_ref().unwrap_or(home), &record.name, settings);
            queue
                .change_tags(|tags| {
                    *tags = record.tags;
                    Ok(())
                })
                .map_err(|err| err.message)?;
            let mut state = queue.state();
            state.next_sequence = record.next_sequence;
            state.deduplication = record
                .deduplication
                .into_iter()
                .map(|(id, (expires, message))| (id, (clock.instant(expires), message)))
                .collect();
            messages += record.messages.len();
            state.messages = record.messages.into_iter().map(|m| m.into_message(&clock)).collect();
        }
        Ok(messages)
    }
}

impl QueueRecord {
    fn of(queue: &Queue, clock: &Clock) -> Self {
        let settings = SavedSettings::Typed(Box::new(queue.settings()));
        let state = queue.state();
        Self {
            name: queue.name.clone(),
            place: Some(queue.place.clone()),
            tags: queue.tags(),
            settings,
            next_sequence: state.next_sequence,
            deduplication: state
                .deduplication
                .iter()
                .map(|(id, (expires, message))| (id.clone(), (clock.epoch_ms(*expires), message.clone())))
                .collect(),
            messages: state.messages.iter().map(|m| MessageRecord::of(m, clock)).collect(),
        }
    }
}

impl MessageRecord {
    fn of(message: &Message, clock: &Clock) -> Self {
        Self {
            content: message.content.clone(),
            available_at_ms: clock.epoch_ms(message.available_at),
            expires_at_ms: clock.epoch_ms(message.expires_at),
            receive_count: message.receive_count,
            first_receive_ms: message.first_receive_ms,
            receipt: message.receipt.clone(),
        }
    }

    fn into_message(self, clock: &Clock) -> Message {
        Message {
            content: self.content,
            available_at: clock.instant(self.available_at_ms),
            expires_at: clock.instant(self.expires_at_ms),
            receive_count: self.receive_count,
            first_receive_ms: self.first_receive_ms,
            receipt: self.receipt,
        }
    }
}

/// One reading of both clocks, to turn the monotonic instants messages keep into epoch milliseconds and back.
struct Clock {
    instant: Instant,
    epoch_ms: u64,
}

impl Clock {
    fn now() -> Self {
        Self { instant: Instant::now(), epoch_ms: super::message::epoch_ms() }
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

/// Where the snapshot goes and how far writing has got.
pub(super) struct Durability {
    path: PathBuf,
    /// Counts changes; a snapshot taken after change N covers it.
    changes: AtomicU64,
    /// The last change covered by a snapshot on disk.
    written: watch::Sender<u64>,
    wake: Notify,
}

impl Durability {
    pub(super) fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self { path, changes: AtomicU64::new(0), written: watch::channel(0).0, wake: Notify::new() })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the queues changed; the writer takes a new snapshot.
    pub(super) fn changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits until every change made so far is on disk.
    pub(super) async fn flushed(&self) {
        let target = self.changes.load(Ordering::SeqCst);
        let mut written = self.written.subscribe();
        let _ = written.wait_for(|done| *done >= target).await;
    }

    /// Writes snapshots as changes come, until `snapshot` returns `None` (the queues are gone).
    pub(super) async fn run(self: Arc<Self>, snapshot: impl Fn() -> Option<Snapshot>) {
        loop {
            let target = self.changes.load(Ordering::SeqCst);
            if target == *self.written.borrow() {
                self.wake.notified().await;
                continue;
            }
            let Some(snapshot) = snapshot() else { return };
            let path = self.path.clone();
            match tokio::task::spawn_blocking(move || write_atomically(&path, &snapshot)).await {
                Ok(Ok(())) => {
                    self.written.send_replace(target);
                }
                Ok(Err(err)) => {
                    tracing::error!(target: "sqs", "cannot write the queues to {}: {err}; retrying in 1 s (free disk space or fix the folder's permissions)", self.path.display());
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(_) => return,
            }
        }
    }

    /// The snapshot left by the last run, if any.
    pub(super) fn load(&self) -> Result<Option<Snapshot>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|err| {
                format!(
                    "{} is not a queue snapshot ftb-offline can read ({err}); move it away to start with empty queues",
                    self.path.display()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(format!("cannot read {}: {err}", self.path.display())),
        }
    }
}

/// Temporary file, fsync, rename over the old one, fsync of the folder: after a crash the file is either the old
/// snapshot or the new one, never a mix.
fn write_atomically(path: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(&serde_json::to_vec(snapshot).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Restores `snapshot` into fresh queues and returns them.
    fn restored(snapshot: Snapshot) -> Vec<Arc<Queue>> {
        let queues = Mutex::new(Vec::new());
        snapshot
            .restore(&Caller::home("eu-north-1"), |place, name, settings| {
                let queue = Arc::new(Queue::new(name, place.clone(), "http://localhost", settings));
                queues.lock().unwrap().push(queue.clone());
                queue
            })
            .unwrap();
        queues.into_inner().unwrap()
    }

    #[tokio::test]
    async fn snapshots_keep_settings_and_messages() {
        let settings = QueueSettings { visibility_timeout: Duration::from_secs(7), ..QueueSettings::default() };
        let queue = Arc::new(Queue::new("q", Caller::home("eu-north-1"), "http://localhost", settings.clone()));
        queue.send(super::super::message::NewMessage { body: "hello".into(), ..Default::default() }).unwrap();
        let text = serde_json::to_string(&Snapshot::of(&[queue])).unwrap();
        let queues = restored(serde_json::from_str(&text).unwrap());
        assert_eq!(queues[0].settings(), settings);
        assert_eq!(queues[0].attributes()["ApproximateNumberOfMessages"], "1");
    }

    /// Snapshots written while settings were saved as CreateQueue attributes.
    #[tokio::test]
    async fn snapshots_with_attributes_are_still_read() {
        let old = r#"{"queues":[{"name":"q.fifo","attributes":{"VisibilityTimeout":"7","FifoQueue":"true"},
            "next_sequence":1,"deduplication":{},"messages":[{"id":"m1","body":"hi","attributes":{},"md5_body":"x",
            "md5_attributes":null,"sent_ms":1,"available_at_ms":1,"expires_at_ms":99999999999999,"receive_count":0,
            "first_receive_ms":null,"receipt":null,"group_id":"g","deduplication_id":"d",
            "sequence_number":"00000000000000000001"}]}]}"#;
        let queues = restored(serde_json::from_str(old).unwrap());
        let settings = queues[0].settings();
        assert_eq!((settings.visibility_timeout, settings.fifo), (Duration::from_secs(7), true));
        assert_eq!(queues[0].attributes()["ApproximateNumberOfMessages"], "1");
    }
}
