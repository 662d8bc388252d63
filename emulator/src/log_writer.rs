//! Where the command line's log lines go: a thread of its own writes them to standard error, in batches, so that
//! an invocation's START, END and REPORT lines cost the invoking thread a copy into a buffer and nothing more.
//!
//! Why not tracing-appender's non-blocking writer, which this replaced: its thread waits on a crossbeam channel,
//! which spins with `sched_yield` before it sleeps and is woken for every line. At 32 connections that was about
//! one `sched_yield` and a third of a `futex` per request on a two-core machine (`strace -c`), time the handlers
//! and the client needed (docs/BENCHMARKS.md). Here a line only wakes the thread when it sleeps, and the thread
//! lingers [`LINGER`] before it writes, so the lines of many invocations go out in one `write`.
//!
//! Never lossy: when standard error falls [`MAX_PENDING`] bytes behind, logging waits for it.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the thread waits, once woken, for more lines to join the first in one write. Short enough to go
/// unnoticed in a terminal or by a program waiting for a line.
const LINGER: Duration = Duration::from_millis(2);

/// How far the lines may run ahead of standard error before logging waits.
const MAX_PENDING: usize = 4 * 1024 * 1024;

/// What tracing writes into: a cheap handle on the pending lines (`tracing_subscriber`'s `MakeWriter`).
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Writes what is still pending and stops the thread when dropped: drop it before the process's last words.
pub struct LogFlusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the thread: a line arrived while it slept, or the flusher was dropped.
    wake: Condvar,
    /// Wakes writers waiting for room.
    room: Condvar,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The thread waits for `wake`; the next line must wake it.
    sleeping: bool,
    closing: bool,
}

/// Starts the thread that writes to standard error.
pub fn to_stderr() -> (LogWriter, LogFlusher) {
    start(std::io::stderr())
}

fn start(out: impl Write + Send + 'static) -> (LogWriter, LogFlusher) {
    let shared = Arc::new(Shared { state: Mutex::default(), wake: Condvar::new(), room: Condvar::new() });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("ftb-offline-log".into())
            .spawn(move || write_batches(&shared, out))
            .expect("the log thread starts")
    };
    (LogWriter { shared: shared.clone() }, LogFlusher { shared, thread: Some(thread) })
}

/// The thread: sleeps until lines arrive, lets more join them, then writes them all at once.
fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        if state.pending.is_empty() {
            if state.closing {
                return;
            }
            state.sleeping = true;
            state = shared
                .wake
                .wait_while(state, |s| s.pending.is_empty() && !s.closing)
                .unwrap_or_else(|e| e.into_inner());
            state.sleeping = false;
            if !state.closing {
                drop(state);
                std::thread::sleep(LINGER);
                state = shared.lock();
            }
        }
        std::mem::swap(&mut batch, &mut state.pending);
        drop(state);
        shared.room.notify_all();
        // Standard error gone (a closed pipe) is no reason to stop the emulator: the lines are dropped then.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Write for &LogWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &self.shared;
        let mut state = shared.lock();
        if state.pending.len() >= MAX_PENDING && !state.closing {
            state = shared
                .room
                .wait_while(state, |s| s.pending.len() >= MAX_PENDING && !s.closing)
                .unwrap_or_else(|e| e.into_inner());
        }
        state.pending.extend_from_slice(line);
        let wake = std::mem::take(&mut state.sleeping);
        drop(state);
        if wake {
            shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = &'a LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for LogFlusher {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_flusher_is_dropped() {
        let out = Captured::default();
        let (writer, flusher) = start(out.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        (&writer).write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(flusher);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 40_000);
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|line| line.split_once(' ').filter(|(who, _)| *who == t.to_string()))
                .map(|(_, i)| i.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..10_000).collect::<Vec<_>>(), "thread {t}'s lines, in order");
        }
    }

    #[test]
    fn a_line_comes_out_without_waiting_for_more() {
        let out = Captured::default();
        let (writer, _flusher) = start(out.clone());
        (&writer).write_all(b"ready\n").unwrap();
        let waited = std::time::Instant::now();
        while out.0.lock().unwrap().is_empty() {
            assert!(waited.elapsed() < Duration::from_secs(5), "the line was not written");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(out.0.lock().unwrap().as_slice(), b"ready\n");
    }
}
