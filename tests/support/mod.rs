//! Shared set-up for the end-to-end tests, one concept a file, all re-exported here so that a test needs only
//! `use ftb_offline_tests::*;`:
//! - [`fixtures`]: emulators started in-process on port 0 from the fixture `serverless.yml`s (so tests run side by
//!   side), AWS's sample events, and what the recording fixture handlers wrote;
//! - [`clients`]: the real clients pointed at an emulator: aws-sdk clients, the AWS CLI, headless Chromium;
//! - [`cli`]: the `ftb-offline` command line as its own process, and what its log says;
//! - [`app`]: the Fault Tolerant App run as the end-to-end and fault-injection tests run it;
//! - [`issuer`]: a JWT issuer on loopback, signing real tokens and serving its keys.

pub mod app;
pub mod cli;
pub mod clients;
pub mod fixtures;
pub mod issuer;

pub use cli::*;
pub use clients::*;
pub use fixtures::*;
pub use issuer::{epoch_seconds, Issuer};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").to_path_buf()
}

/// Replaces `path`'s content in one step, as editors that save atomically do: written in the system's temporary
/// folder (outside the watched tree, on the file system of the tests' folders), then renamed over it. A plain
/// `fs::write` truncates first, and a watcher that looks in between sees an empty file.
pub fn save(path: &Path, contents: impl AsRef<[u8]>) {
    use std::io::Write;
    let mut staged = tempfile::NamedTempFile::new().unwrap();
    staged.write_all(contents.as_ref()).unwrap();
    staged.persist(path).unwrap_or_else(|e| panic!("renaming over {}: {e}", path.display()));
}

/// Polls `condition` every 20 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}
