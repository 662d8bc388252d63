//! Watching for edits: a `notify` watcher on `serverless.yml` and on the folders of the functions' code (for Rust,
//! the packages that define the binaries and the local packages they depend on, never `target/`). Edits are debounced, then handed to
//! [`Live`]: an edited `serverless.yml` is reloaded first (it may add functions and crates to watch), then the
//! binaries whose sources changed are rebuilt. One edit is handled at a time.

use crate::error::Error;
use crate::live::Live;
use crate::server::Shutdown;
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// How long edits must stay quiet before a rebuild starts (an editor's save is often several events).
const DEBOUNCE: Duration = Duration::from_millis(80);

/// The file watcher and the folders it watches.
struct Watching {
    inner: notify::RecommendedWatcher,
    folders: BTreeSet<PathBuf>,
    config_path: PathBuf,
}

/// Starts watching; the task ends with `shutdown`.
pub fn start(live: Arc<Mutex<Live>>, shutdown: Shutdown) -> Result<(), Error> {
    let (changes, received) = mpsc::unbounded_channel::<PathBuf>();
    let inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)) {
                for path in event.paths {
                    let _ = changes.send(path);
                }
            }
        }
    })
    .map_err(|err| Error::Unavailable(format!("cannot watch for edits: {err}; start with --no-watch")))?;
    let config_path = live.try_lock().map(|l| absolute(&l.options().config_path)).expect("nobody else holds it yet");
    let mut watching = Watching { inner, folders: BTreeSet::new(), config_path };
    // Editors often replace a file rather than write it, so the folder is watched, not the file.
    let config_dir = watching.config_path.parent().map(Path::to_path_buf).unwrap_or_default();
    watching.inner.watch(&config_dir, RecursiveMode::NonRecursive).map_err(|err| {
        Error::Unavailable(format!("cannot watch {}: {err}; start with --no-watch", config_dir.display()))
    })?;
    watching.watch_sources(&live.try_lock().expect("nobody else holds it yet"))?;
    tracing::info!(target: "watch", "watching {} and {} source folders for changes", watching.config_path.display(), watching.folders.len());
    tokio::spawn(run(watching, live, received, shutdown));
    Ok(())
}

impl Watching {
    /// Watches the source folders of every code unit not watched yet (also those created since the last call).
    fn watch_sources(&mut self, live: &Live) -> Result<(), Error> {
        for (folder, recursive) in live.code().sources() {
            if self.folders.contains(&folder) {
                continue;
            }
            let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
            self.inner.watch(&folder, mode).map_err(|err| {
                Error::Unavailable(format!("cannot watch {}: {err}; start with --no-watch", folder.display()))
            })?;
            self.folders.insert(folder);
        }
        Ok(())
    }
}

async fn run(
    mut watching: Watching,
    live: Arc<Mutex<Live>>,
    mut changes: mpsc::UnboundedReceiver<PathBuf>,
    mut shutdown: Shutdown,
) {
    loop {
        let first = tokio::select! {
            _ = shutdown.wait() => return,
            path = changes.recv() => match path { Some(path) => path, None => return },
        };
        let mut changed = vec![first];
        while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, changes.recv()).await {
            changed.push(path);
        }
        let (config_edits, sources): (Vec<PathBuf>, Vec<PathBuf>) =
            changed.into_iter().partition(|path| absolute(path) == watching.config_path);
        let mut live = live.lock().await;
        if !config_edits.is_empty() && watching.config_path.is_file() {
            live.reload_config().await;
            if let Err(err) = watching.watch_sources(&live) {
                tracing::warn!(target: "watch", "{err}");
            }
        }
        let affected = live.code().affected(&sources);
        if affected.iter().any(|units| !units.is_empty()) {
            live.rebuild(&affected, &sources).await;
        }
        // A folder created by this edit is watched from now on.
        if let Err(err) = watching.watch_sources(&live) {
            tracing::warn!(target: "watch", "{err}");
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
