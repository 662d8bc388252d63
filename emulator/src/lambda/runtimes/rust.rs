//! The Rust runtime (`provided.al2023`, `provided.al2`): a function runs the cargo binary its
//! `package.artifact` names (cargo-lambda's `target/lambda/<binary>/bootstrap.zip` layout). Units are binaries;
//! preparing one is `cargo build` (unless `--no-build`) and staging the build as its own copy, so processes never
//! start from the file cargo writes its next build to.

use super::cargo::{BuildMode, Workspace};
use super::{Launch, Prepared, Runtime, Units};
use crate::config::{Function, Service};
use crate::error::Error;
use futures_util::future::BoxFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct RustRuntime {
    mode: BuildMode,
    /// This emulator's staging folder name.
    instance: String,
    /// The cargo workspace around the service, read when a function first needs it.
    workspace: Option<Arc<Workspace>>,
}

impl RustRuntime {
    pub fn new(mode: BuildMode) -> Self {
        let instance = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        Self { mode, instance, workspace: None }
    }

    /// The workspace, read again when one of `units` is new to it (a live edit added a binary).
    async fn workspace_for(&mut self, service: &Service, units: &Units) -> Result<Arc<Workspace>, Error> {
        if let Some(workspace) = &self.workspace {
            if units.iter().all(|(name, functions)| workspace.missing(name, functions).is_none()) {
                return Ok(workspace.clone());
            }
        }
        let first = self.workspace.is_none();
        let workspace = discover(service).await?;
        if first {
            workspace.claim_staging(&self.instance)?;
        }
        self.workspace = Some(workspace.clone());
        Ok(workspace)
    }

    /// Builds `units` (when `mode` builds) and stages each.
    async fn build_and_stage(
        &mut self,
        service: &Service,
        units: &Units,
        generation: u64,
        mode: BuildMode,
    ) -> Result<Prepared, Error> {
        let workspace = self.workspace_for(service, units).await?;
        if let BuildMode::Build { release } = mode {
            workspace.build(units, release).await?;
        }
        let mut prepared = Prepared::new();
        for (name, functions) in units {
            let launch = match workspace.missing(name, functions) {
                Some(reason) => Err(reason),
                None => workspace
                    .binary_path(name, mode)
                    .and_then(|built| workspace.stage(&built, name, &self.instance, generation))
                    .map(Launch::program)
                    .map_err(|e| e.to_string()),
            };
            prepared.insert(name.clone(), launch);
        }
        Ok(prepared)
    }
}

impl Runtime for RustRuntime {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn unit_of(&self, function: &Function) -> Option<String> {
        function.binary_name()
    }

    fn prepare<'a>(
        &'a mut self,
        service: &'a Service,
        units: &'a Units,
        generation: u64,
    ) -> BoxFuture<'a, Result<Prepared, Error>> {
        let mode = self.mode;
        Box::pin(self.build_and_stage(service, units, generation, mode))
    }

    fn rebuild<'a>(
        &'a mut self,
        service: &'a Service,
        units: &'a Units,
        generation: u64,
    ) -> BoxFuture<'a, Result<Prepared, Error>> {
        let release = matches!(self.mode, BuildMode::Build { release: true } | BuildMode::NoBuild { release: true });
        Box::pin(self.build_and_stage(service, units, generation, BuildMode::Build { release }))
    }

    fn sources(&self, unit: &str) -> Vec<PathBuf> {
        self.workspace.as_ref().map(|w| w.sources(unit).to_vec()).unwrap_or_default()
    }

    fn is_source(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let in_target = self.workspace.as_ref().is_some_and(|w| path.starts_with(&w.target_dir));
        !in_target
            && !path.components().any(|c| matches!(c.as_os_str().to_str(), Some("target" | ".git")))
            && !name.ends_with('~')
            && !name.starts_with(".#")
            && !name.ends_with(".swp")
    }

    fn staging_dir(&self) -> Option<PathBuf> {
        self.workspace.as_ref().map(|w| w.staging_dir(&self.instance))
    }
}

async fn discover(service: &Service) -> Result<Arc<Workspace>, Error> {
    let service_dir = service.service_dir.clone();
    let workspace = tokio::task::spawn_blocking(move || Workspace::discover(&service_dir))
        .await
        .map_err(|e| Error::Build(format!("reading the cargo workspace failed: {e}")))??;
    Ok(Arc::new(workspace))
}
