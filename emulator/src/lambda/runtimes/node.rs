//! Node.js functions (`nodejs18.x` … `nodejs24.x`): the machine's `node` runs our bootstrap (`bootstrap/node.mjs`),
//! which loads the handler as Lambda's Node.js runtime does. `NODE_PATH` lists the layers' `nodejs/node_modules`
//! folders and the task root, as Lambda's does. A handler built by serverless-esbuild runs from its
//! `.esbuild/.build` output when that holds it.

use super::interpreted::{Interpreted, Language};
use super::interpreter::{self, Interpreter};
use super::layers;
use crate::config::{Function, Service};
use std::path::{Path, PathBuf};

pub type NodeRuntime = Interpreted<Node>;

pub struct Node;

/// serverless-esbuild's output folder, laid out as the service directory.
const ESBUILD_OUTPUT: &str = ".esbuild/.build";
const JAVASCRIPT: &[&str] = &["", ".js", ".mjs", ".cjs"];
const TYPESCRIPT: &[&str] = &[".ts", ".mts", ".cts"];

impl Language for Node {
    const NAME: &'static str = "node";
    const RUNTIME_PREFIX: &'static str = "nodejs";
    const BOOTSTRAP: &'static str = include_str!("bootstrap/node.mjs");
    const BOOTSTRAP_FILE: &'static str = "bootstrap.mjs";
    const FOREIGN: &'static [&'static str] = &["py", "pyc", "rs"];

    fn find(_service_dir: &Path, chosen: Option<&Path>, runtime: &str) -> Result<Interpreter, String> {
        let program = match chosen {
            Some(program) => program.to_path_buf(),
            None => interpreter::on_path("node").ok_or_else(|| missing(runtime, "no `node` is on PATH"))?,
        };
        Interpreter::probe(&program).map_err(|problem| missing(runtime, &problem))
    }

    fn dependency_folders(service_dir: &Path) -> Vec<PathBuf> {
        vec![service_dir.join("node_modules")]
    }

    fn runtime_version(runtime: &str) -> Option<String> {
        let version = runtime.strip_prefix("nodejs")?.trim_end_matches(".x");
        (!version.is_empty()).then(|| version.to_string())
    }

    fn task_root(service: &Service, function: &Function) -> PathBuf {
        let built = service.service_dir.join(ESBUILD_OUTPUT);
        match module_base(function) {
            Some(module) if has_source(&built.join(&module), JAVASCRIPT) => {
                tracing::info!(target: "build", "{} runs from {ESBUILD_OUTPUT} (serverless-esbuild's output)", function.key);
                built
            }
            _ => service.service_dir.clone(),
        }
    }

    /// Node.js 22.6–22.17 and 23.0–23.5 strip TypeScript's types only when asked: a handler whose only source
    /// is TypeScript gets the flag there (22.18 and 23.6 do it by default; older versions cannot, and the
    /// bootstrap says so).
    fn interpreter_args(interpreter: &Interpreter, task_root: &Path, function: &Function) -> Vec<String> {
        let flagged = matches!(interpreter.major_minor(), (22, 6..=17) | (23, 0..=5));
        let typescript_only = module_base(function).is_some_and(|module| {
            let base = task_root.join(module);
            !has_source(&base, JAVASCRIPT) && has_source(&base, TYPESCRIPT)
        });
        if flagged && typescript_only {
            vec!["--experimental-strip-types".into()]
        } else {
            Vec::new()
        }
    }

    fn environment(
        interpreter: &Interpreter,
        task_root: &Path,
        runtime_dir: &Path,
        layers: &[PathBuf],
    ) -> Vec<(String, String)> {
        let (major, _) = interpreter.major_minor();
        let mut paths: Vec<PathBuf> = Vec::new();
        for layer in layers {
            paths.push(layer.join(format!("nodejs/node{major}/node_modules")));
            paths.push(layer.join("nodejs/node_modules"));
        }
        paths.extend([runtime_dir.to_path_buf(), task_root.to_path_buf()]);
        vec![("NODE_PATH".into(), layers::search_path(&paths))]
    }
}

/// The error for a Node.js that cannot be run: the runtime, what went wrong and what to install.
fn missing(runtime: &str, problem: &str) -> String {
    let major = Node::runtime_version(runtime).unwrap_or_else(|| "22".into());
    format!("functions on {runtime} need Node.js, and {problem}: install Node.js {major} (https://nodejs.org, or your package manager's `nodejs`), or give its path with --node")
}

/// The handler's module without extension, relative to the task root: `handlers/submit` for
/// `handlers/submit.handler` (the module is the base name up to its first dot, as Lambda splits it).
fn module_base(function: &Function) -> Option<PathBuf> {
    let handler = function.handler.as_deref()?;
    let (folder, base) = handler.rsplit_once('/').unwrap_or(("", handler));
    let module = base.split_once('.')?.0;
    Some(Path::new(folder).join(module))
}

fn has_source(base: &Path, extensions: &[&str]) -> bool {
    extensions.iter().any(|ext| {
        let mut file = base.as_os_str().to_owned();
        file.push(ext);
        Path::new(&file).is_file()
    })
}
