//! Hot reload of the handler crates: a `notify` watcher on the packages that define the functions' binaries (and
//! the local packages they depend on, never `target/`), debounced edits, an incremental `cargo build` of only the
//! binaries affected, and a swap to the new binary without dropping anything: invocations already running finish
//! on their old process, new ones start processes of the new build. A failed build keeps the old binary serving.

use crate::lambda::build::{BuildMode, Workspace};
use crate::lambda::Lambda;
use crate::server::Shutdown;
use crate::Error;
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long edits must stay quiet before a rebuild starts (an editor's save is often several events).
const DEBOUNCE: Duration = Duration::from_millis(80);

/// What the watcher needs to rebuild and swap handlers.
pub struct Handlers {
    pub workspace: Arc<Workspace>,
    /// Binary name → the function keys it serves.
    pub binaries: BTreeMap<String, Vec<String>>,
    pub mode: BuildMode,
    /// This emulator's staging folder name.
    pub instance: String,
}

/// Reload outcomes so far.
#[derive(Default)]
pub struct Reloads {
    succeeded: AtomicU64,
    failed: AtomicU64,
}

impl Reloads {
    pub fn counts(&self) -> (u64, u64) {
        (self.succeeded.load(Ordering::SeqCst), self.failed.load(Ordering::SeqCst))
    }
}

/// Keeps the file watcher alive; dropping it stops watching.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
}

pub fn start(
    handlers: Handlers,
    lambda: Arc<Lambda>,
    reloads: Arc<Reloads>,
    shutdown: Shutdown,
) -> Result<Watcher, Error> {
    let (changes, received) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)) {
                for path in event.paths {
                    let _ = changes.send(path);
                }
            }
        }
    })
    .map_err(|err| Error::Unavailable(format!("cannot watch the handler sources: {err}; start with --no-watch")))?;
    let folders: BTreeSet<&PathBuf> =
        handlers.binaries.keys().flat_map(|binary| handlers.workspace.sources(binary)).collect();
    for folder in &folders {
        watcher.watch(folder, RecursiveMode::Recursive).map_err(|err| {
            Error::Unavailable(format!("cannot watch {}: {err}; start with --no-watch", folder.display()))
        })?;
    }
    tracing::info!(target: "watch", "watching {} source folders for changes", folders.len());
    tokio::spawn(run(handlers, lambda, reloads, received, shutdown));
    Ok(Watcher { _inner: watcher })
}

async fn run(
    handlers: Handlers,
    lambda: Arc<Lambda>,
    reloads: Arc<Reloads>,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
    mut shutdown: Shutdown,
) {
    let mut generation = 0;
    loop {
        let first = tokio::select! {
            _ = shutdown.wait() => return,
            path = changes.recv() => match path { Some(path) => path, None => return },
        };
        let mut changed = vec![first];
        while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, changes.recv()).await {
            changed.push(path);
        }
        let affected = affected_binaries(&handlers, &changed);
        if affected.is_empty() {
            continue;
        }
        generation += 1;
        rebuild(&handlers, &lambda, &reloads, &affected, generation).await;
    }
}

/// The binaries whose sources include one of the changed files (ignoring build output and editor files).
fn affected_binaries(handlers: &Handlers, changed: &[PathBuf]) -> BTreeMap<String, Vec<String>> {
    let sources: Vec<&PathBuf> = changed.iter().filter(|p| is_source(p, &handlers.workspace.target_dir)).collect();
    handlers
        .binaries
        .iter()
        .filter(|(binary, _)| {
            sources.iter().any(|path| handlers.workspace.sources(binary).iter().any(|dir| path.starts_with(dir)))
        })
        .map(|(binary, functions)| (binary.clone(), functions.clone()))
        .collect()
}

fn is_source(path: &Path, target_dir: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    !path.starts_with(target_dir)
        && !path.components().any(|c| matches!(c.as_os_str().to_str(), Some("target" | ".git")))
        && !name.ends_with('~')
        && !name.starts_with(".#")
        && !name.ends_with(".swp")
}

async fn rebuild(
    handlers: &Handlers,
    lambda: &Lambda,
    reloads: &Reloads,
    affected: &BTreeMap<String, Vec<String>>,
    generation: u64,
) {
    let release = matches!(handlers.mode, BuildMode::Build { release: true } | BuildMode::NoBuild { release: true });
    let started = Instant::now();
    tracing::info!(target: "watch", "source changed: rebuilding {}", affected.keys().cloned().collect::<Vec<_>>().join(", "));
    if handlers.workspace.build(affected, release).await.is_err() {
        reloads.failed.fetch_add(1, Ordering::SeqCst);
        tracing::warn!(target: "watch", "the rebuild failed (the compiler's errors are above); the previous build keeps serving until the next good edit");
        return;
    }
    for binary in affected.keys() {
        let staged = handlers
            .workspace
            .binary_path(binary, BuildMode::Build { release })
            .and_then(|built| handlers.workspace.stage(&built, binary, &handlers.instance, generation));
        match staged {
            Ok(path) => {
                let functions = lambda.reload_binary(binary, &path);
                tracing::info!(target: "watch", "reloaded {} ({binary}) {:.1} s after the change", functions.join(", "), started.elapsed().as_secs_f64());
            }
            Err(err) => tracing::warn!(target: "watch", "{err}"),
        }
    }
    reloads.succeeded.fetch_add(1, Ordering::SeqCst);
}
