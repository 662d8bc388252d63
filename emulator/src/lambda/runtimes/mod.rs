//! How a function's code becomes a running process, one [`Runtime`] per kind of code: which functions it runs
//! and which code unit each runs, preparing that code (building and staging it where the runtime builds), the
//! folders whose edits change it, and what starts one process ([`Launch`]). The pool, the watcher and live
//! edits see only the trait, so a new runtime (Node.js, Python) is an implementation here, not a branch
//! elsewhere.
//!
//! - [`rust`]: `provided.*` functions whose `package.artifact` names a cargo binary; [`cargo`] builds it.
//! - [`node`] and [`python`]: `nodejs*` and `python*` functions, run by the machine's interpreter through a
//!   bootstrap script of ours ([`interpreted`]); [`layers`] lays out their layers.

pub mod cargo;
pub mod interpreted;
pub mod interpreter;
pub mod layers;
pub mod node;
pub mod python;
pub mod rust;

use crate::config::{Function, Service};
use crate::error::Error;
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The interpreter that runs `function` (`node`, `python3` and its version), or why there is none; `None`
/// for functions no interpreter runs (Rust binaries). `chosen` are `--node` and `--python`.
pub fn interpreter_of(
    service: &Service,
    function: &Function,
    chosen: [Option<&Path>; 2],
) -> Option<Result<interpreter::Interpreter, String>> {
    use interpreted::Language;
    let runtime = function.runtime.as_deref()?;
    if runtime.starts_with(node::Node::RUNTIME_PREFIX) {
        Some(node::Node::find(&service.service_dir, chosen[0], runtime))
    } else if runtime.starts_with(python::Python::RUNTIME_PREFIX) {
        Some(python::Python::find(&service.service_dir, chosen[1], runtime))
    } else {
        None
    }
}

/// What starts one process of a function: a program with its arguments, run in a working directory (which is
/// also the function's `LAMBDA_TASK_ROOT`), with the runtime's own variables (`NODE_PATH`, `PYTHONPATH`, …)
/// on top of Lambda's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub working_dir: PathBuf,
    pub environment: Vec<(String, String)>,
}

impl Launch {
    /// A program run without arguments from its own folder (a staged binary).
    pub fn program(program: PathBuf) -> Self {
        let working_dir = program.parent().map(Path::to_path_buf).unwrap_or_default();
        Self { program, working_dir, ..Self::default() }
    }
}

/// Code unit → the keys of the functions that run it. A unit is what one build produces (a cargo binary), and
/// the functions that share it are reloaded together.
pub type Units = BTreeMap<String, Vec<String>>;

/// What starts each unit's processes, or why it cannot run: its functions then fail when invoked, as a
/// function with a broken package does on AWS.
pub type Prepared = BTreeMap<String, Result<Launch, String>>;

/// One kind of code. Implementations are driven by [`crate::functions::FunctionCode`].
pub trait Runtime: Send + Sync {
    /// A short name for logs (`rust`).
    fn name(&self) -> &'static str;

    /// The unit `function` runs, or `None` when this runtime does not run it.
    fn unit_of(&self, function: &Function) -> Option<String>;

    /// Makes `units` ready to start: builds them where the runtime builds, and stages generation `generation`.
    /// An error stops the whole preparation (the build failed; its errors have been shown); a unit that alone
    /// cannot be built or found gets its reason in [`Prepared`] instead.
    fn prepare<'a>(
        &'a mut self,
        service: &'a Service,
        units: &'a Units,
        generation: u64,
    ) -> BoxFuture<'a, Result<Prepared, Error>>;

    /// Prepares `units` again after their sources changed (always building, where the runtime builds). An error
    /// means the build failed: the functions keep running the code they have. Where nothing is built, this is
    /// [`Runtime::prepare`].
    fn rebuild<'a>(
        &'a mut self,
        service: &'a Service,
        units: &'a Units,
        generation: u64,
    ) -> BoxFuture<'a, Result<Prepared, Error>> {
        self.prepare(service, units, generation)
    }

    /// The folders whose edits change `unit`.
    fn sources(&self, unit: &str) -> Vec<PathBuf>;

    /// What to watch for edits of `units`: each folder, and whether with everything below it. By default each
    /// unit's [`Runtime::sources`], recursively (a crate's folder).
    fn watched(&self, units: &Units) -> Vec<(PathBuf, bool)> {
        units.keys().flat_map(|unit| self.sources(unit)).map(|folder| (folder, true)).collect()
    }

    /// Whether an edited file is source at all (not build output or an editor's scratch file).
    fn is_source(&self, path: &Path) -> bool;

    /// Whether an edit of `path` changes `unit`.
    fn changes(&self, unit: &str, path: &Path) -> bool {
        self.is_source(path) && self.sources(unit).iter().any(|folder| path.starts_with(folder))
    }

    /// Where this runtime keeps what it staged for this emulator (removed when the emulator stops).
    fn staging_dir(&self) -> Option<PathBuf>;
}
