//! The parts of a running emulator that change while it serves, and the two ways they change:
//!
//! - an edited handler crate: [`Live::rebuild`] builds the binaries affected and swaps their functions to the new
//!   build (running invocations finish on the old processes; a failed build keeps the old one serving);
//! - an edited `serverless.yml`: [`Live::reload_config`] loads and checks the whole file (functions, routes,
//!   queues, mappings, CORS) before anything changes, then each service takes its part. An invalid edit is
//!   reported with its file and line, and the running configuration stays.
//!
//! [`crate::watch`] decides when; this module decides what.

use crate::apigw::http::HttpGateway;
use crate::apigw::websocket::server::WebSocketGateway;
use crate::aws::endpoints::LocalEndpoints;
use crate::config::intrinsics::Intrinsics;
use crate::config::{self, Service};
use crate::functions::{self, Handlers};
use crate::lambda::build::BuildMode;
use crate::lambda::{FunctionChanges, Lambda};
use crate::sqs::mapping::{MappingChanges, Mappings};
use crate::sqs::Sqs;
use crate::{sqs, EmulatorOptions, Error};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Reload outcomes so far, for `Emulator::reloads` and `Emulator::config_reloads`.
#[derive(Default)]
pub struct Reloads {
    builds_succeeded: AtomicU64,
    builds_failed: AtomicU64,
    configs_applied: AtomicU64,
    configs_rejected: AtomicU64,
    last_config_error: Mutex<Option<String>>,
}

/// Live edits of `serverless.yml` so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigReloads {
    pub applied: u64,
    pub rejected: u64,
    /// Why the last rejected edit was rejected (with its file and line), until an edit is applied.
    pub last_error: Option<String>,
}

impl Reloads {
    /// Handler rebuilds: (succeeded, failed).
    pub fn builds(&self) -> (u64, u64) {
        (self.builds_succeeded.load(Ordering::SeqCst), self.builds_failed.load(Ordering::SeqCst))
    }

    pub fn configs(&self) -> ConfigReloads {
        ConfigReloads {
            applied: self.configs_applied.load(Ordering::SeqCst),
            rejected: self.configs_rejected.load(Ordering::SeqCst),
            last_error: self.last_config_error.lock().unwrap().clone(),
        }
    }
}

/// What an applied edit of `serverless.yml` changed.
#[derive(Debug, Default)]
pub struct ConfigChanges {
    pub functions: FunctionChanges,
    pub queues_created: Vec<String>,
    pub queues_deleted: Vec<String>,
    pub mappings: MappingChanges,
    pub binaries_built: Vec<String>,
    /// Every route, when the edit changed them.
    pub routes: Vec<String>,
}

impl std::fmt::Display for ConfigChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            ("functions added", &self.functions.added),
            ("functions changed", &self.functions.changed),
            ("functions removed", &self.functions.removed),
            ("binaries built", &self.binaries_built),
            ("queues created", &self.queues_created),
            ("queues deleted", &self.queues_deleted),
            ("mappings started", &self.mappings.started),
            ("mappings stopped", &self.mappings.stopped),
        ];
        let mut said: Vec<String> = parts
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(what, list)| format!("{what}: {}", list.join(", ")))
            .collect();
        if !self.routes.is_empty() {
            said.push(format!("routes now:\n  {}", self.routes.join("\n  ")));
        }
        if said.is_empty() {
            write!(f, "no function, queue or route changed")
        } else {
            write!(f, "{}", said.join("; "))
        }
    }
}

/// The running emulator's changeable parts.
pub struct Live {
    pub options: EmulatorOptions,
    pub endpoints: LocalEndpoints,
    pub service: Arc<ArcSwap<Service>>,
    pub lambda: Arc<Lambda>,
    pub http: Arc<ArcSwap<HttpGateway>>,
    pub websocket: Arc<WebSocketGateway>,
    pub sqs: Arc<Sqs>,
    /// The queues `resources` defined at the last applied configuration (queues created through the SQS API are
    /// never deleted by an edit).
    pub queues: BTreeSet<String>,
    pub mappings: Mappings,
    pub handlers: Option<Handlers>,
    pub reloads: Arc<Reloads>,
    /// Staged builds so far; each rebuild or new binary gets the next.
    generation: u64,
}

impl Live {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: EmulatorOptions,
        endpoints: LocalEndpoints,
        service: Arc<ArcSwap<Service>>,
        lambda: Arc<Lambda>,
        http: Arc<ArcSwap<HttpGateway>>,
        websocket: Arc<WebSocketGateway>,
        sqs: Arc<Sqs>,
        queues: BTreeSet<String>,
        mappings: Mappings,
        handlers: Option<Handlers>,
    ) -> Self {
        Self {
            options,
            endpoints,
            service,
            lambda,
            http,
            websocket,
            sqs,
            queues,
            mappings,
            handlers,
            reloads: Arc::new(Reloads::default()),
            generation: 0,
        }
    }

    /// Rebuilds `affected` binaries (binary → function keys) and swaps their functions to the new build.
    pub async fn rebuild(&mut self, affected: &BTreeMap<String, Vec<String>>) {
        let Some(handlers) = self.handlers.as_mut() else { return };
        let release =
            matches!(handlers.mode, BuildMode::Build { release: true } | BuildMode::NoBuild { release: true });
        let started = Instant::now();
        tracing::info!(target: "watch", "source changed: rebuilding {}", affected.keys().cloned().collect::<Vec<_>>().join(", "));
        if handlers.workspace.build(affected, release).await.is_err() {
            self.reloads.builds_failed.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(target: "watch", "the rebuild failed (the compiler's errors are above); the previous build keeps serving until the next good edit");
            return;
        }
        self.generation += 1;
        for binary in affected.keys() {
            let staged = handlers
                .workspace
                .binary_path(binary, BuildMode::Build { release })
                .and_then(|built| handlers.workspace.stage(&built, binary, &handlers.instance, self.generation));
            match staged {
                Ok(path) => {
                    handlers.staged.insert(binary.clone(), Ok(path.clone()));
                    let functions = self.lambda.reload_binary(binary, &path);
                    tracing::info!(target: "watch", "reloaded {} ({binary}) {:.1} s after the change", functions.join(", "), started.elapsed().as_secs_f64());
                }
                Err(err) => tracing::warn!(target: "watch", "{err}"),
            }
        }
        self.reloads.builds_succeeded.fetch_add(1, Ordering::SeqCst);
    }

    /// Loads the edited `serverless.yml` and applies it, or reports why not and keeps the running configuration.
    pub async fn reload_config(&mut self) {
        let started = Instant::now();
        match self.try_reload_config().await {
            Ok(changes) => {
                self.reloads.configs_applied.fetch_add(1, Ordering::SeqCst);
                *self.reloads.last_config_error.lock().unwrap() = None;
                tracing::info!(target: "watch", "applied the edited {} in {:.2} s: {changes}", self.file_name(), started.elapsed().as_secs_f64());
            }
            Err(err) => {
                self.reloads.configs_rejected.fetch_add(1, Ordering::SeqCst);
                *self.reloads.last_config_error.lock().unwrap() = Some(err.to_string());
                tracing::error!(target: "watch", "the edited {} was not applied: {err}. The running configuration stays until the next good edit", self.file_name());
            }
        }
    }

    fn file_name(&self) -> String {
        self.options.config_path.file_name().map_or("serverless.yml".into(), |n| n.to_string_lossy().into_owned())
    }

    async fn try_reload_config(&mut self) -> Result<ConfigChanges, Error> {
        let service = config::load(&self.options.config_path, &self.options.load)?;
        warn_about_restart_only_changes(&self.service.load(), &service);
        let binaries = functions::binaries_of(&service)?;
        let mut changes = ConfigChanges::default();
        if !binaries.is_empty() && self.handlers.is_none() {
            self.handlers = Handlers::prepare(&service, self.options.build).await?;
        } else if let Some(handlers) = self.handlers.as_mut() {
            self.generation += 1;
            changes.binaries_built = handlers.add_missing(&service, &binaries, self.generation).await?;
        }
        // Everything is checked before anything changes.
        let staged = self.handlers.as_ref().map(|h| h.staged.clone()).unwrap_or_default();
        let specs = functions::specs(&service, &self.endpoints, &self.options, &staged)?;
        let http = HttpGateway::new(&service, self.lambda.clone(), self.options.integration_timeout)?;
        check_queues_and_mappings(&service, &self.endpoints, &specs)?;
        if let Some(handlers) = self.handlers.as_mut() {
            handlers.binaries = binaries;
        }
        changes.functions = self.lambda.apply(specs);
        let intrinsics = Intrinsics::new(&service, &self.endpoints);
        let queues = sqs::resources::define_queues(&service, &intrinsics, &self.sqs).map_err(|e| service.locate(e))?;
        changes.queues_created = queues.difference(&self.queues).cloned().collect();
        changes.queues_deleted = self.queues.difference(&queues).cloned().collect();
        let mappings = resolve_mappings(&service, &intrinsics, &self.sqs, &self.lambda)?;
        changes.mappings = self.mappings.apply(mappings);
        for name in &changes.queues_deleted {
            if let Ok(queue) = self.sqs.queue(name) {
                self.sqs.delete_queue(&queue);
            }
        }
        self.queues = queues;
        let routes_before = crate::route_lines(&self.http.load(), &self.websocket, &self.endpoints);
        self.http.store(Arc::new(http));
        self.websocket.apply(&service);
        changes.routes = crate::route_lines(&self.http.load(), &self.websocket, &self.endpoints);
        if changes.routes == routes_before {
            changes.routes.clear();
        }
        if self.options.migrate_tables {
            crate::dynamodb::tables::ensure_tables(&service, &self.options.dynamodb_endpoint)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
        }
        self.service.store(Arc::new(service));
        Ok(changes)
    }
}

/// The mappings of `service` on `sqs`, each with at most as many pollers as its function may run processes. At
/// start-up and after a live edit.
pub(crate) fn resolve_mappings(
    service: &Service,
    intrinsics: &Intrinsics,
    sqs: &Arc<Sqs>,
    lambda: &Lambda,
) -> Result<Vec<sqs::mapping::Mapping>, Error> {
    let concurrency = |function: &str| lambda.find(function).map_or(1, |pool| pool.spec.max_concurrency);
    Ok(sqs::resources::mappings(service, intrinsics, sqs, concurrency).map_err(|e| service.locate(e))?)
}

/// Resolves the queues and mappings of `service` against scratch queues, so that an edit naming a queue that does
/// not exist, or giving one an invalid attribute, is refused before the real queues change.
fn check_queues_and_mappings(
    service: &Service,
    endpoints: &LocalEndpoints,
    specs: &[crate::lambda::spec::FunctionSpec],
) -> Result<(), Error> {
    let scratch = Sqs::scratch(&service.region, &endpoints.lambda_url());
    let intrinsics = Intrinsics::new(service, endpoints);
    sqs::resources::define_queues(service, &intrinsics, &scratch).map_err(|e| service.locate(e))?;
    let concurrency = |function: &str| specs.iter().find(|s| s.key == function).map_or(1, |s| s.max_concurrency);
    sqs::resources::mappings(service, &intrinsics, &scratch, concurrency).map_err(|e| service.locate(e))?;
    Ok(())
}

/// Settings a running emulator cannot take without a restart: say so instead of ignoring them silently.
fn warn_about_restart_only_changes(running: &Service, edited: &Service) {
    let mut needs_restart = Vec::new();
    if running.offline.http_port != edited.offline.http_port
        || running.offline.websocket_port != edited.offline.websocket_port
        || running.offline.lambda_port != edited.offline.lambda_port
        || running.offline.host != edited.offline.host
    {
        needs_restart.push("custom.serverless-offline host and ports");
    }
    if running.stage != edited.stage || running.region != edited.region || running.service != edited.service {
        needs_restart.push("service, stage and region");
    }
    if !needs_restart.is_empty() {
        tracing::warn!(target: "watch", "{} changed: they take effect at the next start", needs_restart.join(" and "));
    }
}
