//! Runtimes whose code runs in the machine's interpreter ([`node`](super::node), [`python`](super::python)):
//! nothing to build; a process is the interpreter running our bootstrap script, which speaks the Runtime API as
//! the managed runtime's own client does and loads the handler from the task root. A function is its own unit:
//! a saved edit under the service's code (not its dependencies or caches) replaces its warm processes.

use super::cargo::{is_abandoned, OWNER_FILE};
use super::interpreter::Interpreter;
use super::{layers, Launch, Prepared, Runtime, Units};
use crate::config::{Function, Service};
use crate::error::Error;
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// What one interpreted language needs to say.
pub trait Language: Send + Sync + 'static {
    /// The runtime's name in logs and unit names (`node`).
    const NAME: &'static str;
    /// The prefix of the Lambda runtime identifiers it runs (`nodejs` for `nodejs20.x`).
    const RUNTIME_PREFIX: &'static str;
    /// The bootstrap script, and the file name it is staged under.
    const BOOTSTRAP: &'static str;
    const BOOTSTRAP_FILE: &'static str;
    /// Folder names under the service directory that hold no function code: dependencies, caches, build
    /// output, version control, and the emulator's own state (`.ftb-offline`, which `--persist` writes).
    const IGNORED: &'static [&'static str] = &[
        "node_modules",
        ".venv",
        "venv",
        "target",
        ".git",
        ".serverless",
        ".ftb-offline",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "coverage",
        ".nyc_output",
        ".idea",
        ".vscode",
        ".dynamodb",
    ];

    /// The folders the package manager installs into (`node_modules`, a virtual environment's `site-packages`):
    /// a package added, removed or replaced there (an entry of the folder itself) replaces the processes too.
    /// Their content below is not watched.
    fn dependency_folders(service_dir: &Path) -> Vec<PathBuf>;

    /// Extensions of other languages' code: an edit of such a file changes no function of this language.
    const FOREIGN: &'static [&'static str];

    /// The interpreter for `service`: `chosen` on the command line, else the language's own lookup. The error
    /// names the runtime and what to install.
    fn find(service_dir: &Path, chosen: Option<&Path>, runtime: &str) -> Result<Interpreter, String>;

    /// The version a runtime identifier names, to compare with the interpreter's (`20` for `nodejs20.x`,
    /// `3.12` for `python3.12`).
    fn runtime_version(runtime: &str) -> Option<String>;

    /// The folder the function's code runs from (`LAMBDA_TASK_ROOT`).
    fn task_root(service: &Service, _function: &Function) -> PathBuf {
        service.service_dir.clone()
    }

    /// Interpreter options before the bootstrap script.
    fn interpreter_args(_interpreter: &Interpreter, _task_root: &Path, _function: &Function) -> Vec<String> {
        Vec::new()
    }

    /// The language's variables: module paths with the layers, as Lambda sets them.
    fn environment(
        interpreter: &Interpreter,
        task_root: &Path,
        runtime_dir: &Path,
        layers: &[PathBuf],
    ) -> Vec<(String, String)>;
}

pub struct Interpreted<L: Language> {
    /// `--node` / `--python`.
    chosen: Option<PathBuf>,
    interpreter: Option<Interpreter>,
    /// Where this emulator writes the bootstrap script (removed when it stops).
    staging: PathBuf,
    service_dir: PathBuf,
    /// [`Language::dependency_folders`] of the service directory, read when units are prepared.
    dependencies: Vec<PathBuf>,
    /// Runtime identifiers whose version mismatch was reported.
    warned: BTreeSet<String>,
    language: PhantomData<L>,
}

impl<L: Language> Interpreted<L> {
    pub fn new(chosen: Option<PathBuf>, instance: &str) -> Self {
        let staging = std::env::temp_dir().join(format!("ftb-offline-{instance}-{}", L::NAME));
        Self {
            chosen,
            interpreter: None,
            staging,
            service_dir: PathBuf::new(),
            dependencies: Vec::new(),
            warned: BTreeSet::new(),
            language: PhantomData,
        }
    }

    /// The unit name of a function: its key, marked with the language so it never meets a cargo binary's name.
    fn unit_name(key: &str) -> String {
        format!("{}:{key}", L::NAME)
    }

    fn interpreter(&mut self, service: &Service, runtime: &str) -> Result<Interpreter, Error> {
        if self.interpreter.is_none() {
            let found = L::find(&service.service_dir, self.chosen.as_deref(), runtime).map_err(Error::Build)?;
            tracing::info!(target: "build", "{} functions run {} {}", L::NAME, found.program.display(), found.version);
            self.interpreter = Some(found);
        }
        Ok(self.interpreter.clone().expect("found above"))
    }

    /// One warning per runtime identifier whose version is not the interpreter's; never a refusal.
    fn check_version(&mut self, runtime: &str, interpreter: &Interpreter) {
        let Some(wanted) = L::runtime_version(runtime) else { return };
        let (major, minor) = interpreter.major_minor();
        let local = if wanted.contains('.') { format!("{major}.{minor}") } else { major.to_string() };
        if local != wanted && self.warned.insert(runtime.to_string()) {
            tracing::warn!(target: "build", "functions on {runtime} run with {} {}: the code runs, but may meet differences from Lambda's {runtime}", interpreter.program.display(), interpreter.version);
        }
    }

    /// Writes the bootstrap once per emulator (its content never changes), through a temporary file renamed into
    /// place, so a process starting meanwhile never reads half of it. The folder is this emulator's alone (0700).
    fn stage_bootstrap(&self) -> Result<PathBuf, Error> {
        let script = self.staging.join(L::BOOTSTRAP_FILE);
        if script.is_file() {
            return Ok(script);
        }
        let partial = self.staging.join(format!("{}.partial", L::BOOTSTRAP_FILE));
        let written = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.staging)
            .and_then(|_| std::fs::write(self.staging.join(OWNER_FILE), std::process::id().to_string()))
            .and_then(|_| std::fs::write(&partial, L::BOOTSTRAP))
            .and_then(|_| std::fs::rename(&partial, &script));
        written.map_err(|err| Error::Build(format!("cannot write {}: {err}", script.display())))?;
        remove_abandoned::<L>(&self.staging);
        Ok(script)
    }

    fn prepare_units(&mut self, service: &Service, units: &Units) -> Result<Prepared, Error> {
        self.service_dir = service.service_dir.clone();
        self.dependencies = L::dependency_folders(&self.service_dir);
        let mut prepared = Prepared::new();
        for (unit, keys) in units {
            let Some(function) = keys.first().and_then(|key| service.function(key)) else { continue };
            let runtime = function.runtime.clone().unwrap_or_default();
            let interpreter = self.interpreter(service, &runtime)?;
            self.check_version(&runtime, &interpreter);
            let script = self.stage_bootstrap()?;
            let task_root = L::task_root(service, function);
            let layers = layers::folders(service, function);
            let mut args = L::interpreter_args(&interpreter, &task_root, function);
            args.push(script.display().to_string());
            let mut environment = L::environment(&interpreter, &task_root, &self.staging, &layers);
            environment.push(("LAMBDA_RUNTIME_DIR".into(), self.staging.display().to_string()));
            environment.push(("PATH".into(), layers::path_variable(&layers)));
            let launch = Launch { program: interpreter.program.clone(), args, working_dir: task_root, environment };
            prepared.insert(unit.clone(), Ok(launch));
        }
        Ok(prepared)
    }
}

impl<L: Language> Runtime for Interpreted<L> {
    fn name(&self) -> &'static str {
        L::NAME
    }

    fn unit_of(&self, function: &Function) -> Option<String> {
        let runtime = function.runtime.as_deref()?;
        runtime.starts_with(L::RUNTIME_PREFIX).then(|| Self::unit_name(&function.key))
    }

    fn prepare<'a>(
        &'a mut self,
        service: &'a Service,
        units: &'a Units,
        _generation: u64,
    ) -> BoxFuture<'a, Result<Prepared, Error>> {
        Box::pin(async move { self.prepare_units(service, units) })
    }

    /// Every function's code is the service directory's.
    fn sources(&self, _unit: &str) -> Vec<PathBuf> {
        vec![self.service_dir.clone()]
    }

    /// Every folder under the service directory that may hold code, each watched alone, walked once for all the
    /// units: dependencies (a nested `node_modules` too) and caches are left out, so they cost no watches; the
    /// package manager's folders are watched for what is installed or removed. Top-level files are seen
    /// through the watch on the folder of `serverless.yml`.
    fn watched(&self, units: &Units) -> Vec<(PathBuf, bool)> {
        if units.is_empty() {
            return Vec::new();
        }
        let mut folders = Vec::new();
        let mut pending = vec![self.service_dir.clone()];
        while let Some(folder) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                // file_type does not follow symbolic links, so a link cycle is never walked.
                if entry.file_type().is_ok_and(|t| t.is_dir()) && self.is_source(&path) {
                    folders.push(path.clone());
                    pending.push(path);
                }
            }
        }
        folders.extend(self.dependencies.iter().filter(|folder| folder.is_dir()).cloned());
        folders.into_iter().map(|folder| (folder, false)).collect()
    }

    fn is_source(&self, path: &Path) -> bool {
        if path.parent().is_some_and(|parent| self.dependencies.iter().any(|folder| folder == parent)) {
            return true; // a package installed or removed
        }
        let relative = path.strip_prefix(&self.service_dir).unwrap_or(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let ignored = relative.components().any(|c| c.as_os_str().to_str().is_some_and(|c| L::IGNORED.contains(&c)));
        let foreign = path.extension().and_then(|e| e.to_str()).is_some_and(|e| L::FOREIGN.contains(&e));
        !ignored && !foreign && !name.ends_with('~') && !name.starts_with(".#") && !name.ends_with(".swp")
    }

    fn changes(&self, _unit: &str, path: &Path) -> bool {
        path.starts_with(&self.service_dir) && self.is_source(path)
    }

    fn staging_dir(&self) -> Option<PathBuf> {
        Some(self.staging.clone())
    }
}

/// Removes the staging folders of this language that emulators now gone left in the temporary folder (one
/// killed with SIGKILL cannot remove its own): ours by name, `ftb-offline-<instance>-<language>`, with an owner
/// that no longer runs.
fn remove_abandoned<L: Language>(mine: &Path) {
    let suffix = format!("-{}", L::NAME);
    let entries = std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten();
    for stale in entries.map(|entry| entry.path()).filter(|dir| dir != mine) {
        let name = stale.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("ftb-offline-") && name.ends_with(&suffix) && is_abandoned(&stale) {
            tracing::debug!(target: "build", "removing {}, left by an emulator that is gone", stale.display());
            let _ = std::fs::remove_dir_all(&stale);
        }
    }
}
