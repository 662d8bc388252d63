//! Event source mappings switched off while the emulator runs (the web console's disable, as
//! UpdateEventSourceMapping `Enabled=false` does on Lambda): a paused mapping receives nothing until it is
//! switched on again. The switch is kept by function and queue ARN, so it outlives a live edit that keeps the
//! mapping; `enabled: false` in `serverless.yml` is a different thing (no mapping runs at all).

use std::collections::HashSet;
use std::sync::Mutex;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Pauses {
    paused: Mutex<HashSet<(String, String)>>,
    changed: Notify,
}

impl Pauses {
    /// Pauses (`enabled == false`) or resumes the mapping of `function` on `queue_arn`.
    pub fn set(&self, function: &str, queue_arn: &str, enabled: bool) {
        let key = (function.to_string(), queue_arn.to_string());
        let mut paused = self.paused.lock().unwrap();
        if enabled {
            paused.remove(&key);
        } else {
            paused.insert(key);
        }
        drop(paused);
        self.changed.notify_waiters();
    }

    pub fn is_paused(&self, function: &str, queue_arn: &str) -> bool {
        self.paused.lock().unwrap().contains(&(function.to_string(), queue_arn.to_string()))
    }

    /// Returns once the mapping is not paused.
    pub async fn wait_until_enabled(&self, function: &str, queue_arn: &str) {
        self.wait_until(function, queue_arn, false).await;
    }

    /// Returns once the mapping is paused.
    pub async fn wait_until_paused(&self, function: &str, queue_arn: &str) {
        self.wait_until(function, queue_arn, true).await;
    }

    async fn wait_until(&self, function: &str, queue_arn: &str, paused: bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_paused(function, queue_arn) == paused {
                return;
            }
            changed.await;
        }
    }
}
