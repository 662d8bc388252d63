//! Durable queues (`--persist`): the queues and every message in them (visible, in flight, delayed, in a
//! dead-letter queue) are written to `.ftb-offline/<stage>/sqs.json` beside `serverless.yml`, crash-safely (a
//! temporary file, fsync, rename, fsync of the folder), before the request that changed them is answered. So a
//! `kill -9` of the emulator loses no message it acknowledged, and a restart with `--persist` finds them all.
//!
//! Writes are grouped: one snapshot covers every change made while the previous one was being written, so a
//! busy queue costs one write per round, not one per message.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// The file, relative to the stage's state folder.
pub const FILE: &str = "sqs.json";

/// What is written: every queue with its settings and messages. Times are milliseconds since the epoch.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub queues: Vec<QueueRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct QueueRecord {
    pub name: String,
    /// The settable attributes, as CreateQueue takes them.
    pub attributes: BTreeMap<String, String>,
    pub next_sequence: u64,
    /// FIFO deduplication ids still in their window: id → (expires at, message id).
    pub deduplication: BTreeMap<String, (u64, String)>,
    pub messages: Vec<MessageRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: String,
    pub body: String,
    pub attributes: BTreeMap<String, AttributeRecord>,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub sent_ms: u64,
    pub available_at_ms: u64,
    pub expires_at_ms: u64,
    pub receive_count: u32,
    pub first_receive_ms: Option<u64>,
    pub receipt: Option<String>,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AttributeRecord {
    pub data_type: String,
    pub string: Option<String>,
    pub binary: Option<Vec<u8>>,
}

/// Where the snapshot goes and how far writing has got.
pub struct Durability {
    path: PathBuf,
    /// Counts changes; a snapshot taken after change N covers it.
    changes: AtomicU64,
    /// The last change covered by a snapshot on disk.
    written: watch::Sender<u64>,
    wake: Notify,
}

impl Durability {
    pub fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(Self { path, changes: AtomicU64::new(0), written: watch::channel(0).0, wake: Notify::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the queues changed; the writer takes a new snapshot.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits until every change made so far is on disk.
    pub async fn flushed(&self) {
        let target = self.changes.load(Ordering::SeqCst);
        let mut written = self.written.subscribe();
        let _ = written.wait_for(|done| *done >= target).await;
    }

    /// Writes snapshots as changes come, until `snapshot` returns `None` (the queues are gone).
    pub async fn run(self: Arc<Self>, snapshot: impl Fn() -> Option<Snapshot>) {
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
    pub fn load(&self) -> Result<Option<Snapshot>, String> {
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
