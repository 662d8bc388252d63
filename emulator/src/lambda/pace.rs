//! The pace of a streamed response as Lambda sends it, and waiting within an invocation's deadline.

use crate::aws::lambda as limits;
use std::time::Duration;

/// Lambda's pace for a streamed response: the first [`limits::STREAM_UNCAPPED_BYTES`] as fast as they come, the
/// rest at most [`limits::STREAM_CAPPED_BYTES_PER_SECOND`].
#[derive(Default)]
pub(super) struct Pace {
    sent: usize,
    capped_since: Option<tokio::time::Instant>,
}

impl Pace {
    /// Waits until `len` more bytes may go.
    pub(super) async fn wait_for(&mut self, len: usize) {
        self.sent += len;
        let Some(over) = self.sent.checked_sub(limits::STREAM_UNCAPPED_BYTES).filter(|over| *over > 0) else {
            return;
        };
        let since = *self.capped_since.get_or_insert_with(tokio::time::Instant::now);
        let due = since + Duration::from_secs_f64(over as f64 / limits::STREAM_CAPPED_BYTES_PER_SECOND as f64);
        tokio::time::sleep_until(due).await;
    }
}

/// `work`'s outcome, or `None` if `deadline` came first.
pub(super) async fn within<T>(
    deadline: Option<tokio::time::Instant>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    match deadline {
        Some(at) => tokio::time::timeout_at(at, work).await.ok(),
        None => Some(work.await),
    }
}
