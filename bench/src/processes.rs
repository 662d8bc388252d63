//! Every process the bench starts and leaves running, owned from its spawn by a guard that stops it when dropped,
//! on every path, panics included. A tool that starts helpers or handler processes runs in a process group of its
//! own and the whole group is killed. On Ctrl-C or SIGTERM the bench stops every live process before it exits.
//! The guard also keeps the last line the process wrote to stderr: the short reason given when it fails.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a process is stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stop {
    /// SIGKILL to its process group: it runs in one of its own, from its spawn.
    KillGroup,
    /// SIGINT to the process, which stops its own children (ftb-offline); SIGKILL if it is still running after
    /// `GRACE`.
    Interrupt,
}

const GRACE: Duration = Duration::from_secs(10);
/// The longest kept of a process's last stderr line.
const REASON_CHARS: usize = 160;

/// The processes alive now: their pids and how each is stopped (for the interrupt handler).
static LIVE: Mutex<Vec<(u32, Stop)>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<(u32, Stop)>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running process the bench started. Dropping it stops it.
pub struct Owned {
    child: Child,
    stop: Stop,
    /// The last non-empty line the process wrote to stderr.
    last_line: Arc<Mutex<String>>,
    /// Receives one message per stderr line containing `marker`.
    marked: Mutex<mpsc::Receiver<()>>,
    marker: String,
}

impl Owned {
    /// Spawns `command` with stdin and stdout discarded and stderr read for `marker` (empty: none) and for the
    /// last line; in a process group of its own for `Stop::KillGroup`.
    pub fn spawn(command: &mut Command, stop: Stop, marker: &str) -> Result<Owned, String> {
        if stop == Stop::KillGroup {
            command.process_group(0);
        }
        let program = command.get_program().to_string_lossy().into_owned();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("{program} does not run: {err}"))?;
        live().push((child.id(), stop));
        let last_line = Arc::new(Mutex::new(String::new()));
        let (sender, marked) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            let (last_line, marker) = (last_line.clone(), marker.to_string());
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !marker.is_empty() && line.contains(&marker) {
                        let _ = sender.send(());
                    }
                    if !line.trim().is_empty() {
                        *last_line.lock().unwrap_or_else(|p| p.into_inner()) = line;
                    }
                }
            });
        }
        Ok(Owned { child, stop, last_line, marked: Mutex::new(marked), marker: marker.to_string() })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the process group (`Stop::KillGroup`) or to the process.
    pub fn signal(&self, signal: libc::c_int) {
        send(self.child.id(), self.stop, signal);
    }

    /// `what`, followed by the last line the process wrote to stderr (shortened), if any.
    pub fn explain(&self, what: &str) -> String {
        let line = self.last_line.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let line = shorten(&line);
        if line.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {line}")
        }
    }

    /// Why the process is no longer running, if it is not: its exit status and last stderr line.
    pub fn exited(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        Some(self.explain(&format!("exited ({status})")))
    }

    /// Blocks until the process writes a stderr line with the marker given at spawn, at most `limit`.
    pub fn wait_for_marker(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            let marked = self.marked.lock().unwrap_or_else(|p| p.into_inner());
            let received = marked.recv_timeout(Duration::from_millis(50));
            drop(marked);
            match received {
                Ok(()) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stderr is closed: the process is exiting.
                    std::thread::sleep(Duration::from_millis(100));
                    return Err(self.exited().unwrap_or_else(|| self.explain("closed its stderr")));
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() > deadline => {
                    let what = format!("no `{}` line within {} s", self.marker, limit.as_secs());
                    return Err(self.exited().unwrap_or_else(|| self.explain(&what)));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let pid = self.child.id();
        live().retain(|(live_pid, _)| *live_pid != pid);
        match self.stop {
            // Killed before it is reaped, so its pid still names its group.
            Stop::KillGroup => send(pid, Stop::KillGroup, libc::SIGKILL),
            Stop::Interrupt => {
                send(pid, Stop::Interrupt, libc::SIGINT);
                send(pid, Stop::Interrupt, libc::SIGCONT);
                let deadline = Instant::now() + GRACE;
                while matches!(self.child.try_wait(), Ok(None)) {
                    if Instant::now() > deadline {
                        send(pid, Stop::Interrupt, libc::SIGKILL);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let _ = self.child.wait();
    }
}

/// kill(2) on `pid`'s process group (`Stop::KillGroup`) or on `pid`.
fn send(pid: u32, stop: Stop, signal: libc::c_int) {
    let target = match stop {
        Stop::KillGroup => -(pid as libc::pid_t),
        Stop::Interrupt => pid as libc::pid_t,
    };
    // SAFETY: kill(2) on a process (group) the bench started and has not reaped.
    unsafe { libc::kill(target, signal) };
}

/// The line without terminal colour codes, at most `REASON_CHARS` characters.
fn shorten(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skips an escape sequence up to its final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let plain = plain.trim().replace('|', "/");
    let cut = plain.char_indices().nth(REASON_CHARS).map(|(end, _)| end);
    match cut {
        Some(end) => format!("{}…", &plain[..end]),
        None => plain,
    }
}

/// On Ctrl-C or SIGTERM: stops every live process as its guard would, then exits with status 130. Runs on a
/// tokio worker, so it acts even while the section holds the main thread.
pub fn stop_all_on_interrupt() {
    tokio::spawn(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("interrupted: stopping the processes the bench started");
        let processes = live().clone();
        for (pid, stop) in &processes {
            match stop {
                Stop::KillGroup => send(*pid, *stop, libc::SIGKILL),
                Stop::Interrupt => {
                    send(*pid, *stop, libc::SIGINT);
                    send(*pid, *stop, libc::SIGCONT);
                }
            }
        }
        if processes.iter().any(|(_, stop)| *stop == Stop::Interrupt) {
            // Time for ftb-offline to stop its handler processes.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        std::process::exit(130);
    });
}
