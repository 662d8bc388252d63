//! From the `functions` of `serverless.yml` to [`FunctionSpec`]s ready to run: which cargo binary each function
//! runs, building those binaries and staging a copy per generation ([`Handlers`]), and each function's resolved
//! environment. Used at start-up and again for each live edit of `serverless.yml`.

use crate::aws::endpoints::LocalEndpoints;
use crate::aws::names;
use crate::config::intrinsics::Intrinsics;
use crate::config::{self, Service};
use crate::lambda::build::{BuildMode, Workspace};
use crate::lambda::spec::FunctionSpec;
use crate::{EmulatorOptions, Error};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Binary name → the function keys that run it.
pub type Binaries = BTreeMap<String, Vec<String>>;

/// The staged file each binary's new processes start from, or why it cannot run.
pub type Staged = BTreeMap<String, Result<PathBuf, String>>;

/// The handler binaries of a service: where cargo builds them and the copies processes run.
pub struct Handlers {
    pub workspace: Arc<Workspace>,
    pub binaries: Binaries,
    pub mode: BuildMode,
    /// This emulator's staging folder name.
    pub instance: String,
    pub staged: Staged,
}

impl Handlers {
    /// Reads the cargo workspace around the service, builds its binaries (unless `--no-build`) and stages
    /// generation 0. `None` when no function names a binary.
    pub async fn prepare(service: &Service, mode: BuildMode) -> Result<Option<Self>, Error> {
        let binaries = binaries_of(service)?;
        if binaries.is_empty() {
            return Ok(None);
        }
        let workspace = discover(service).await?;
        let instance = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        workspace.claim_staging(&instance)?;
        let mut handlers = Self { workspace, binaries: Binaries::new(), mode, instance, staged: Staged::new() };
        handlers.add(&binaries, 0).await?;
        handlers.binaries = binaries;
        Ok(Some(handlers))
    }

    /// Builds and stages the binaries not staged yet (a function added by a live edit), re-reading the
    /// workspace first when one of them is new to it. Returns the names added.
    pub async fn add_missing(
        &mut self,
        service: &Service,
        binaries: &Binaries,
        generation: u64,
    ) -> Result<Vec<String>, Error> {
        let missing: Binaries = binaries
            .iter()
            .filter(|(name, _)| !matches!(self.staged.get(*name), Some(Ok(_))))
            .map(|(name, functions)| (name.clone(), functions.clone()))
            .collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        if missing.iter().any(|(name, functions)| self.workspace.missing(name, functions).is_some()) {
            self.workspace = discover(service).await?;
        }
        self.add(&missing, generation).await?;
        Ok(missing.into_keys().collect())
    }

    /// Builds (in `Build` mode) and stages `binaries`. A binary that cannot be built or found does not stop the
    /// others: its functions fail when invoked, as serverless-offline does with a missing handler.
    async fn add(&mut self, binaries: &Binaries, generation: u64) -> Result<(), Error> {
        if let BuildMode::Build { release } = self.mode {
            self.workspace.build(binaries, release).await?;
        }
        for (name, functions) in binaries {
            let path = match self.workspace.missing(name, functions) {
                Some(reason) => Err(reason),
                None => self
                    .workspace
                    .binary_path(name, self.mode)
                    .and_then(|built| self.workspace.stage(&built, name, &self.instance, generation))
                    .map_err(|e| e.to_string()),
            };
            self.staged.insert(name.clone(), path);
        }
        Ok(())
    }

    /// Where this emulator's staged copies live (removed when it stops).
    pub fn staging_dir(&self) -> PathBuf {
        self.workspace.staging_dir(&self.instance)
    }
}

async fn discover(service: &Service) -> Result<Arc<Workspace>, Error> {
    let service_dir = service.service_dir.clone();
    let workspace = tokio::task::spawn_blocking(move || Workspace::discover(&service_dir))
        .await
        .map_err(|e| Error::Build(format!("reading the cargo workspace failed: {e}")))??;
    Ok(Arc::new(workspace))
}

/// Which binary each function runs (cargo-lambda's `package.artifact` layout).
pub fn binaries_of(service: &Service) -> Result<Binaries, Error> {
    let mut binaries = Binaries::new();
    for function in service.functions.values() {
        let Some(binary) = function.binary_name() else {
            let location = service.locate(config::ConfigError::at_path(format!("functions.{}", function.key), ""));
            return Err(Error::Build(format!(
                "{}function `{}` names no Rust binary: set package.artifact to target/lambda/<binary>/bootstrap.zip (cargo-lambda's layout)",
                location.location.map(|l| format!("{l}: ")).unwrap_or_default(),
                function.key
            )));
        };
        binaries.entry(binary).or_default().push(function.key.clone());
    }
    Ok(binaries)
}

/// Every function as a spec: its staged binary, limits and resolved environment.
pub fn specs(
    service: &Service,
    endpoints: &LocalEndpoints,
    options: &EmulatorOptions,
    staged: &Staged,
) -> Result<Vec<FunctionSpec>, Error> {
    let intrinsics = Intrinsics::new(service, endpoints);
    let mut specs = Vec::new();
    for function in service.functions.values() {
        let name = function.binary_name().unwrap_or_default();
        let (binary, unavailable) = match staged.get(&name) {
            Some(Ok(path)) => (path.clone(), None),
            Some(Err(reason)) => (PathBuf::from(&name), Some(reason.clone())),
            None => (PathBuf::from(&name), Some(format!("the binary `{name}` is not built"))),
        };
        if let Some(reason) = &unavailable {
            tracing::warn!("{reason}; invocations of {} will fail until it exists", function.key);
        }
        let environment = intrinsics.environment(function)?.into_iter().collect();
        specs.push(FunctionSpec {
            key: function.key.clone(),
            name: function.name.clone(),
            arn: names::lambda_arn(&service.region, &function.name),
            binary_name: name,
            working_dir: binary.parent().map(PathBuf::from).unwrap_or_default(),
            binary,
            handler: function.handler.clone().unwrap_or_else(|| "bootstrap".into()),
            region: service.region.clone(),
            runtime: function.runtime.clone().unwrap_or_else(|| "provided.al2023".into()),
            memory_mb: function.memory_size_mb,
            timeout: (!service.offline.no_timeout).then(|| Duration::from_secs_f64(function.timeout_seconds)),
            max_concurrency: function.reserved_concurrency.map(|n| n as usize).unwrap_or(options.max_concurrency),
            async_retries: function.maximum_retry_attempts,
            max_event_age: Duration::from_secs(function.maximum_event_age_seconds.into()),
            environment,
            endpoints: endpoints.clone(),
            dynamodb_endpoint: options.dynamodb_endpoint.clone(),
            unavailable,
        });
    }
    Ok(specs)
}
