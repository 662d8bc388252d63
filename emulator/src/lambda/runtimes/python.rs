//! Python functions (`python3.9` … `python3.13`): a Python 3 interpreter runs our bootstrap
//! (`bootstrap/python.py`), which loads the handler as Lambda's Python runtime does. The interpreter is the
//! project's: `--python`, else the active virtual environment (`VIRTUAL_ENV`), else the service's `.venv`, else
//! `python3` on PATH, so a project's installed packages (boto3, …) are there as in its deployment package.

use super::interpreted::{Interpreted, Language};
use super::interpreter::{self, Interpreter};
use super::layers;
use std::path::{Path, PathBuf};

pub type PythonRuntime = Interpreted<Python>;

pub struct Python;

impl Language for Python {
    const NAME: &'static str = "python";
    const RUNTIME_PREFIX: &'static str = "python";
    const BOOTSTRAP: &'static str = include_str!("bootstrap/python.py");
    const BOOTSTRAP_FILE: &'static str = "bootstrap.py";
    const FOREIGN: &'static [&'static str] = &["js", "mjs", "cjs", "ts", "mts", "cts", "rs"];

    fn find(service_dir: &Path, chosen: Option<&Path>, runtime: &str) -> Result<Interpreter, String> {
        let from_environment = std::env::var_os("VIRTUAL_ENV").map(|venv| PathBuf::from(venv).join("bin/python3"));
        let project = service_dir.join(".venv/bin/python3");
        let program = chosen
            .map(Path::to_path_buf)
            .or(from_environment.filter(|p| p.is_file()))
            .or(project.is_file().then_some(project))
            .or_else(|| interpreter::on_path("python3"))
            .ok_or_else(|| missing(runtime, "no `python3` is on PATH"))?;
        Interpreter::probe_python(&program).map_err(|problem| missing(runtime, &problem))
    }

    /// The service's `.venv/lib/python3.*/site-packages`.
    fn dependency_folders(service_dir: &Path) -> Vec<PathBuf> {
        let lib = service_dir.join(".venv/lib");
        let Ok(entries) = std::fs::read_dir(&lib) else { return Vec::new() };
        entries.flatten().map(|entry| entry.path().join("site-packages")).collect()
    }

    fn runtime_version(runtime: &str) -> Option<String> {
        let version = runtime.strip_prefix("python")?;
        (!version.is_empty()).then(|| version.to_string())
    }

    /// `PYTHONPATH`: the task root, then each layer's `python/lib/pythonX.Y/site-packages` and `python`, the
    /// folders Lambda puts on `sys.path` from `/opt`, in its order.
    fn environment(
        interpreter: &Interpreter,
        task_root: &Path,
        _runtime_dir: &Path,
        layers: &[PathBuf],
    ) -> Vec<(String, String)> {
        let (major, minor) = interpreter.major_minor();
        let mut paths = vec![task_root.to_path_buf()];
        for layer in layers {
            paths.push(layer.join(format!("python/lib/python{major}.{minor}/site-packages")));
            paths.push(layer.join("python"));
        }

        vec![
            ("PYTHONPATH".into(), layers::search_path(&paths)),
            // Lambda's task root is read-only, so no bytecode cache is written there. Writing none here also
            // keeps a cache from a save in the same second, with the same size, from hiding the edit.
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ]
    }
}

/// The error for a Python that cannot be run: the runtime, what went wrong and what to install.
fn missing(runtime: &str, problem: &str) -> String {
    let version = Python::runtime_version(runtime).unwrap_or_else(|| "3".into());
    format!("functions on {runtime} need Python, and {problem}: install Python {version} (https://www.python.org, or your package manager's `python3`), or give its path with --python")
}
