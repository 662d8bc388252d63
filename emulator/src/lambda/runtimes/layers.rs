//! A function's layers as Lambda lays them out in `/opt`: each layer of this `serverless.yml` is a folder whose
//! `nodejs/node_modules`, `python` and `bin` go on `NODE_PATH`, `PYTHONPATH` and `PATH`. Lambda extracts every
//! layer into one `/opt`; here each stays in its own folder and the variables list them in the function's order.
//! A layer named only by a remote ARN cannot be fetched, and gets one warning. A layer's `extensions/` holds its
//! external extensions, executables Lambda starts beside the runtime ([`extensions`]).

use crate::config::{Function, Layer, Service};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

/// The ARNs already warned about, so each gets one warning per emulator.
static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The folders of `function`'s layers defined in `service`, in the function's order.
pub fn folders(service: &Service, function: &Function) -> Vec<PathBuf> {
    function.layers.iter().filter_map(|layer| folder(service, function, layer)).collect()
}

fn folder(service: &Service, function: &Function, layer: &Value) -> Option<PathBuf> {
    let logical = layer.get("Ref").and_then(Value::as_str);
    let defined = logical.and_then(|id| service.layers.iter().find(|(name, _)| Layer::logical_id(name) == id));
    if let Some(path) = defined.and_then(|(_, layer)| layer.path.as_ref()) {
        return Some(service.service_dir.join(path));
    }
    let named = logical.map(str::to_string).unwrap_or_else(|| layer.to_string());
    if WARNED.lock().unwrap().insert(named.clone()) {
        tracing::warn!(
            "function {}: layer {named} has no folder in this serverless.yml, so it is not available locally; define it under `layers:` with a `path`, or install what it provides in the project",
            function.key
        );
    }
    None
}

/// `PATH` with each layer's `bin` first, as `/opt/bin` is on Lambda's `PATH`.
pub fn path_variable(layers: &[PathBuf]) -> String {
    let host = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut folders: Vec<PathBuf> = layers.iter().map(|layer| layer.join("bin")).collect();
    folders.push(PathBuf::from(host));
    search_path(&folders)
}

/// Folders as a `:`-separated search path (`PATH`, `NODE_PATH`, `PYTHONPATH`).
pub fn search_path(folders: &[PathBuf]) -> String {
    folders.iter().map(|folder| folder.display().to_string()).collect::<Vec<_>>().join(":")
}

/// The external extensions of `layers`: the executable files in each layer's `extensions/` folder (Lambda's
/// `/opt/extensions`), by file name, which is the name each registers under. Lambda extracts the layers into one
/// `/opt` in order, so of two files with the same name the later layer's is the one that runs.
pub fn extensions(layers: &[PathBuf]) -> Vec<(String, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = std::collections::BTreeMap::new();
    for layer in layers {
        let Ok(entries) = std::fs::read_dir(layer.join("extensions")) else { continue };
        for path in entries.flatten().map(|entry| entry.path()) {
            let executable = path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if let (true, Some(name)) = (executable, path.file_name()) {
                found.insert(name.to_string_lossy().into_owned(), path.clone());
            }
        }
    }
    found.into_iter().collect()
}
