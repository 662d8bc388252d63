//! The journal: what happened in the emulator lately, for the web console. It owns the entries (invocations with
//! their trigger, outcome, figures and log; messages sent to queues, moved to dead-letter queues or redriven;
//! WebSocket connections and what was pushed to them), their bound (the newest [`CAPACITY`] only, long texts
//! cut), the live feed of new entries, and a task's story: the entries that mention one id, and those that
//! mention the ids those carry.
//!
//! Services write to it as they work; nothing here changes what they do. It is off until the console turns it on
//! ([`Journal::enable`]): without a console, nothing is recorded and nothing is spent on it.

use serde::Serialize;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Entries kept; older ones are dropped.
pub const CAPACITY: usize = 5000;

/// Payloads, responses, bodies and logs are kept up to this many bytes (cut on a character boundary).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// The shortest id a story follows.
pub const MIN_STORY_ID: usize = 6;

/// The most ids a story follows (the one asked for and those its entries carry).
const MAX_FOLLOWED_IDS: usize = 200;

/// Entries a slow live watcher may fall behind by before it misses some (and is told so).
const LIVE_BACKLOG: usize = 1024;

/// The newest entries, and the feed of new ones.
pub struct Journal {
    enabled: AtomicBool,
    entries: Mutex<VecDeque<Arc<Entry>>>,
    next_seq: AtomicU64,
    live: broadcast::Sender<Arc<Entry>>,
}

/// One thing that happened, numbered in order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum What {
    Invocation(Box<Invocation>),
    /// SendMessage (from a handler, the CLI, an SNS subscription, S3, or the console).
    MessageSent {
        queue: String,
        message_id: String,
        body: String,
    },
    /// A message that used up its receives, moved to the queue's dead-letter queue (same message id).
    DeadLettered {
        queue: String,
        dead_letter_queue: String,
        message_id: String,
        receives: u32,
    },
    /// A message a move task took to another queue, where it has a new id.
    MessageMoved {
        from: String,
        to: String,
        message_id: String,
        new_message_id: String,
    },
    Connected {
        connection_id: String,
    },
    Disconnected {
        connection_id: String,
    },
    /// A message pushed to a WebSocket client through `@connections` (or the console).
    Pushed {
        connection_id: String,
        data: String,
    },
}

/// One finished invocation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub function: String,
    pub request_id: String,
    pub trigger: Trigger,
    /// When the invocation was asked for (milliseconds since the Unix epoch); the entry's own time is its end.
    pub started_ms: u64,
    /// `success` or `error`.
    pub status: &'static str,
    /// A queue or stream batch's items the function reported failed (`batchItemFailures`), when it named any:
    /// the invocation succeeded, those items did not.
    pub batch_item_failures: Option<usize>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub duration_ms: f64,
    pub billed_duration_ms: u64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: Option<u64>,
    pub init_duration_ms: Option<f64>,
    pub payload: String,
    pub response: String,
    /// START, the handler's lines, END, REPORT.
    pub log: String,
}

/// What invoked a function.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Trigger {
    /// The Invoke API (SDKs, the AWS CLI, `ftb-offline invoke`).
    #[default]
    Invoke,
    /// An HTTP API, REST API or function URL request.
    Http {
        api: String,
        method: String,
        path: String,
    },
    WebSocket {
        route: String,
        connection_id: String,
    },
    /// An SQS event source mapping's batch.
    Queue {
        queue: String,
        message_ids: Vec<String>,
    },
    Schedule {
        rule: String,
    },
    Stream {
        table: String,
    },
    Topic {
        topic: String,
    },
    Bucket {
        bucket: String,
    },
    Authorizer {
        authorizer: String,
    },
    /// The web console's Invoke button.
    Console,
}

impl Default for Journal {
    fn default() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            entries: Mutex::new(VecDeque::new()),
            next_seq: AtomicU64::new(1),
            live: broadcast::channel(LIVE_BACKLOG).0,
        }
    }
}

impl Journal {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Starts recording (the console does, when it starts).
    pub fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Writes the entry `what` makes, when recording, dropping the oldest beyond [`CAPACITY`], and sends it to the
    /// live watchers. `what` runs only when recording, so callers pay for the entry only then.
    pub fn record(&self, what: impl FnOnce() -> What) {
        if !self.is_enabled() {
            return;
        }
        let what = what();
        let mut entries = self.entries.lock().unwrap();
        // Numbered under the lock, so entries are in order of their numbers.
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry { seq, at_ms: crate::aws::epoch_ms(), what });
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry.clone());
        // Sent under the lock, so watchers get entries in the order of their numbers.
        let _ = self.live.send(entry);
    }

    /// New entries as they are written.
    pub fn watch(&self) -> broadcast::Receiver<Arc<Entry>> {
        self.live.subscribe()
    }

    /// Up to `limit` entries, newest first, that `keep` accepts.
    pub fn recent(&self, limit: usize, keep: impl Fn(&Entry) -> bool) -> Vec<Arc<Entry>> {
        let entries = self.entries.lock().unwrap();
        entries.iter().rev().filter(|e| keep(e)).take(limit).cloned().collect()
    }

    /// The entry numbered `seq`, while it is kept.
    pub fn entry(&self, seq: u64) -> Option<Arc<Entry>> {
        let entries = self.entries.lock().unwrap();
        let first = entries.front()?.seq;
        let entry = entries.get(usize::try_from(seq.checked_sub(first)?).ok()?)?;
        (entry.seq == seq).then(|| entry.clone())
    }

    /// A task's story: the entries that mention `id`, and those that mention an id one of them carries (its
    /// request id, message ids, and UUIDs in its payload, response or body: the task id the app gives its
    /// tasks). Oldest first. Connection ids are not followed: one connection sees every task.
    /// Ids shorter than [`MIN_STORY_ID`] give an empty story (`a` would match everything); at most
    /// [`MAX_FOLLOWED_IDS`] carried ids are followed.
    pub fn story(&self, id: &str) -> Vec<Arc<Entry>> {
        let id = id.trim();
        if id.chars().count() < MIN_STORY_ID {
            return Vec::new();
        }
        let entries: Vec<Arc<Entry>> = self.entries.lock().unwrap().iter().cloned().collect();
        let mut ids = BTreeSet::from([id.to_string()]);
        for entry in entries.iter().filter(|e| e.what.mentions(id)) {
            ids.extend(entry.what.carried_ids());
            if ids.len() >= MAX_FOLLOWED_IDS {
                break;
            }
        }
        let mut story: Vec<Arc<Entry>> =
            entries.into_iter().filter(|e| ids.iter().any(|id| e.what.mentions(id))).collect();
        // An invocation is told where it began: what it caused (a message sent, a push) comes after it.
        story.sort_by_key(|e| e.began_ms());
        story
    }
}

impl Entry {
    /// When it began: an invocation's start, else when it happened.
    pub fn began_ms(&self) -> u64 {
        match &self.what {
            What::Invocation(invocation) => invocation.started_ms.min(self.at_ms),
            _ => self.at_ms,
        }
    }
}

impl What {
    /// The texts an id is looked for in.
    fn texts(&self) -> Vec<&str> {
        match self {
            What::Invocation(i) => {
                let mut texts = vec![i.request_id.as_str(), &i.payload, &i.response, &i.log];
                if let Trigger::Queue { message_ids, .. } = &i.trigger {
                    texts.extend(message_ids.iter().map(String::as_str));
                }
                texts
            }
            What::MessageSent { message_id, body, .. } => vec![message_id, body],
            What::DeadLettered { message_id, .. } => vec![message_id],
            What::MessageMoved { message_id, new_message_id, .. } => vec![message_id, new_message_id],
            What::Connected { connection_id } | What::Disconnected { connection_id } => vec![connection_id],
            What::Pushed { data, .. } => vec![data],
        }
    }

    fn mentions(&self, id: &str) -> bool {
        self.texts().iter().any(|text| text.contains(id))
    }

    /// The ids a story follows from this entry.
    fn carried_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        match self {
            What::Invocation(i) => {
                ids.push(i.request_id.clone());
                if let Trigger::Queue { message_ids, .. } = &i.trigger {
                    ids.extend(message_ids.iter().cloned());
                }
                ids.extend(uuids_in(&i.payload));
                ids.extend(uuids_in(&i.response));
            }
            What::MessageSent { message_id, body, .. } => {
                ids.push(message_id.clone());
                ids.extend(uuids_in(body));
            }
            What::DeadLettered { message_id, .. } => ids.push(message_id.clone()),
            What::MessageMoved { message_id, new_message_id, .. } => {
                ids.extend([message_id.clone(), new_message_id.clone()]);
            }
            What::Pushed { data, .. } => ids.extend(uuids_in(data)),
            What::Connected { .. } | What::Disconnected { .. } => {}
        }
        ids
    }
}

/// UUIDs (8-4-4-4-12 hexadecimal digits) in `text`.
fn uuids_in(text: &str) -> Vec<String> {
    static UUID: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    let uuid = UUID.get_or_init(|| {
        regex_lite::Regex::new(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
            .expect("a valid pattern")
    });
    uuid.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// `text` cut to [`MAX_TEXT_BYTES`] on a character boundary, with a mark where it was cut.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(queue: &str, id: &str, body: &str) -> impl FnOnce() -> What {
        let (queue, id, body) = (queue.to_string(), id.to_string(), body.to_string());
        move || What::MessageSent { queue, message_id: id, body }
    }

    fn journal() -> Journal {
        let journal = Journal::default();
        journal.enable();
        journal
    }

    #[test]
    fn a_story_follows_the_ids_its_entries_carry() {
        let journal = journal();
        let task = "0b7e9c4e-1f7a-4a52-9d55-3c1f0f8a1e21";
        journal.record(sent("tasks", "msg-0001", &format!(r#"{{"taskId":"{task}"}}"#)));
        journal.record(sent("tasks", "msg-0002", r#"{"taskId":"another"}"#));
        journal.record(|| What::DeadLettered {
            queue: "tasks".into(),
            dead_letter_queue: "dlq".into(),
            message_id: "msg-0001".into(),
            receives: 3,
        });
        let story: Vec<u64> = journal.story("msg-0001").iter().map(|e| e.seq).collect();
        assert!(journal.story("msg").is_empty(), "too short an id matches nothing");
        assert_eq!(story, [1, 3], "the message, and its move to the DLQ");
        let story: Vec<u64> = journal.story(task).iter().map(|e| e.seq).collect();
        assert_eq!(story, [1, 3], "from the task id, through the message id it was sent as");
    }

    #[test]
    fn only_the_newest_entries_are_kept() {
        let journal = journal();
        for i in 0..CAPACITY + 10 {
            journal.record(sent("q", &i.to_string(), ""));
        }
        let oldest = journal.recent(CAPACITY + 10, |_| true).last().map(|e| e.seq);
        assert_eq!(oldest, Some(11));
    }

    #[test]
    fn nothing_is_recorded_until_it_is_enabled() {
        let journal = Journal::default();
        journal.record(|| unreachable!("the entry is not even made"));
        assert!(journal.recent(10, |_| true).is_empty());
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let clipped = clip(&long);
        assert!(clipped.ends_with(&format!("({} bytes in all)", long.len())), "{}", &clipped[clipped.len() - 40..]);
    }
}
