//! The running emulator's state that changes while it serves, and the one way it changes: a checked
//! [`Plan`] applied by [`Live::apply`]. Start-up applies the first plan to empty services; then
//!
//! - an edited `serverless.yml`: [`Live::reload_config`] loads and checks the whole file into the next plan
//!   before anything changes, then applies it. An invalid edit is reported with its file and line, and the
//!   running configuration stays;
//! - an edited handler: [`Live::rebuild`] rebuilds the code units affected (cargo binaries) through their runtime
//!   and swaps their functions to the new build (running invocations finish on the old processes; a failed build keeps the old one serving).
//!
//! [`crate::watch`] decides when; this module decides what.

use crate::apigw::http::HttpGateway;
use crate::apigw::http_routes::HttpRoutes;
use crate::apigw::websocket::routes::WsRoutes;
use crate::apigw::websocket::server::{WebSocketGateway, WsLimits};
use crate::aws::endpoints::LocalEndpoints;
use crate::config::intrinsics::Intrinsics;
use crate::config::{self, Service};
use crate::error::Error;
use crate::functions::{FunctionCode, UnitsByRuntime};
use crate::guard::Guard;
use crate::lambda::runtimes::cargo::{is_abandoned, OWNER_FILE};
use crate::lambda::{FunctionChanges, Lambda, PoolSettings};
use crate::options::EmulatorOptions;
use crate::plan::{self, Plan};
use crate::schedule::{Clock, Schedules};
use crate::server::Shutdown;
use crate::sns::Sns;
use crate::sqs;
use crate::sqs::mapping::{MappingChanges, Mappings};
use crate::sqs::Sqs;
use crate::streams::StreamMappings;
use arc_swap::ArcSwap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    pub topics_created: Vec<String>,
    pub topics_deleted: Vec<String>,
    pub mappings: MappingChanges,
    pub binaries_built: Vec<String>,
    /// Every route, when the edit changed them.
    pub routes: Vec<String>,
    /// Every schedule rule with its next run, when the edit changed them.
    pub schedules: Vec<String>,
    /// Stream mappings started and stopped.
    pub streams: Vec<String>,
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
            ("topics created", &self.topics_created),
            ("topics deleted", &self.topics_deleted),
            ("mappings started", &self.mappings.started),
            ("mappings stopped", &self.mappings.stopped),
            ("stream mappings", &self.streams),
        ];
        let mut said: Vec<String> = parts
            .iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(what, list)| format!("{what}: {}", list.join(", ")))
            .collect();
        if !self.routes.is_empty() {
            said.push(format!("routes now:\n  {}", self.routes.join("\n  ")));
        }
        if !self.schedules.is_empty() {
            said.push(format!("schedules now:\n  {}", self.schedules.join("\n  ")));
        }
        if said.is_empty() {
            write!(f, "no function, queue or route changed")
        } else {
            write!(f, "{}", said.join("; "))
        }
    }
}

/// The services a plan is applied to, shared with the servers that answer on the ports.
#[derive(Clone)]
pub struct Services {
    pub lambda: Arc<Lambda>,
    /// Keeps web pages away from the Lambda port and `@connections`.
    pub guard: Arc<Guard>,
    pub http: Arc<HttpGateway>,
    pub websocket: Arc<WebSocketGateway>,
    pub sqs: Arc<Sqs>,
    /// The SQS mappings switched off from the console.
    pub pauses: Arc<crate::sqs::pauses::Pauses>,
    pub sns: Arc<Sns>,
    pub s3: Arc<crate::s3::S3Gateway>,
}

/// The running emulator's changeable parts.
pub struct Live {
    options: EmulatorOptions,
    endpoints: LocalEndpoints,
    /// The service of the last plan applied.
    service: Arc<ArcSwap<Service>>,
    services: Services,
    /// The queues `resources` defined in the last plan applied (queues created through the SQS API are never
    /// deleted by an edit).
    queues: BTreeSet<String>,
    /// The topics and subscriptions `serverless.yml` defined in the last plan applied.
    topics: crate::sns::resources::Defined,
    mappings: Mappings,
    schedules: Schedules,
    streams: StreamMappings,
    /// The schedule rules of the last plan applied.
    rules: Vec<crate::schedule::Rule>,
    /// The route lines of the last plan applied.
    routes: Vec<String>,
    /// The functions' code: runtimes, units, builds.
    code: FunctionCode,
    reloads: Arc<Reloads>,
}

impl Live {
    /// Builds the handlers of `service`, starts empty services and applies the service's plan to them.
    pub async fn start(
        options: EmulatorOptions,
        endpoints: LocalEndpoints,
        service: Service,
        shutdown: Shutdown,
    ) -> Result<Self, Error> {
        let mut code = FunctionCode::new(&options);
        let (plan, _) = checked_plan(&mut code, service, &endpoints, &options).await?;
        let services = empty_services(&plan.service, &endpoints, &options)?;
        let (sqs, lambda, pauses) = (services.sqs.clone(), services.lambda.clone(), services.pauses.clone());
        let mappings = Mappings::start(sqs, lambda, pauses, Vec::new(), shutdown);
        let schedules = Schedules::new(&services.lambda, Clock::system());
        let streams = StreamMappings::new(&services.lambda, &options.dynamodb_endpoint);
        let mut live = Self {
            service: Arc::new(ArcSwap::from_pointee(plan.service.clone())),
            options,
            endpoints,
            services,
            queues: BTreeSet::new(),
            topics: Default::default(),
            mappings,
            schedules,
            streams,
            rules: Vec::new(),
            routes: Vec::new(),
            code,
            reloads: Arc::new(Reloads::default()),
        };
        live.apply(plan).await?;
        for line in &live.routes {
            tracing::info!(target: "routes", "{line}");
        }
        Ok(live)
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The service as last applied.
    pub fn service(&self) -> &Arc<ArcSwap<Service>> {
        &self.service
    }

    pub fn reloads(&self) -> &Arc<Reloads> {
        &self.reloads
    }

    pub fn options(&self) -> &EmulatorOptions {
        &self.options
    }

    pub fn code(&self) -> &FunctionCode {
        &self.code
    }

    /// Folders the emulator made for this run only (the S3 objects without `--persist`), removed when it stops.
    pub fn scratch_dirs(&self) -> Vec<PathBuf> {
        let root = self.services.s3.buckets().root().to_path_buf();
        if self.options.persist {
            Vec::new()
        } else {
            vec![root]
        }
    }

    /// Rebuilds the `affected` units and swaps their functions to the new build. `changed` are the edited files,
    /// named in the log as the reason.
    pub async fn rebuild(&mut self, affected: &UnitsByRuntime, changed: &[PathBuf]) {
        let started = Instant::now();
        let names: Vec<String> = affected.iter().flat_map(|units| units.keys().cloned()).collect();
        let service = self.service.load_full();
        let edited: BTreeSet<String> = changed
            .iter()
            .map(|path| path.strip_prefix(&service.service_dir).unwrap_or(path).display().to_string())
            .collect();
        let edited: Vec<String> = edited.into_iter().collect();
        tracing::info!(target: "watch", "{} changed: rebuilding {}", edited.join(", "), names.join(", "));
        let rebuilt = match self.code.rebuild(&service, affected).await {
            Ok(rebuilt) => rebuilt,
            Err(_) => {
                self.reloads.builds_failed.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(target: "watch", "the rebuild failed (the compiler's errors are above); the previous build keeps serving until the next good edit");
                return;
            }
        };
        for (unit, launch) in &rebuilt {
            match launch {
                Ok(launch) => {
                    let functions = self.services.lambda.reload_unit(unit, launch);
                    tracing::info!(target: "watch", "reloaded {} ({unit}) {:.1} s after the change", functions.join(", "), started.elapsed().as_secs_f64());
                }
                Err(reason) => tracing::warn!(target: "watch", "{reason}"),
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

    /// Loads `serverless.yml` as it is now into a checked plan (building binaries it adds) and applies it.
    async fn try_reload_config(&mut self) -> Result<ConfigChanges, Error> {
        let service = config::load(&self.options.config_path, &self.options.load)?;
        warn_about_restart_only_changes(&self.service.load(), &service);
        let (plan, binaries_built) = checked_plan(&mut self.code, service, &self.endpoints, &self.options).await?;
        let mut changes = self.apply(plan).await?;
        changes.binaries_built = binaries_built;
        if self.options.migrate_tables {
            let service = self.service.load();
            crate::dynamodb::tables::ensure_tables(&service, &self.options.dynamodb_endpoint)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
        }
        Ok(changes)
    }

    /// Makes the running services what `plan` says: functions, queues, mappings and routes. (Tables are created
    /// by `start:with-db` before start-up and by [`Self::reload_config`] after an edit.)
    pub async fn apply(&mut self, plan: Plan) -> Result<ConfigChanges, Error> {
        let Plan { service, functions, http, websocket, schedules } = plan;
        let services = self.services.clone();
        let mut changes = ConfigChanges { functions: services.lambda.apply(functions), ..ConfigChanges::default() };
        let intrinsics = Intrinsics::new(&service, &self.endpoints);
        let queues =
            sqs::resources::define_queues(&service, &intrinsics, &services.sqs).map_err(|e| service.locate(e))?;
        changes.queues_created = queues.difference(&self.queues).cloned().collect();
        changes.queues_deleted = self.queues.difference(&queues).cloned().collect();
        let concurrency = |function: &str| services.lambda.find(function).map_or(1, |pool| pool.spec.max_concurrency);
        let mappings = sqs::resources::mappings(&service, &intrinsics, &services.sqs, concurrency)
            .map_err(|e| service.locate(e))?;
        changes.mappings = self.mappings.apply(mappings);
        let stream_mappings = crate::streams::mappings(&service, &intrinsics).map_err(|e| service.locate(e))?;
        for line in self.streams.apply(stream_mappings) {
            tracing::info!(target: "streams", "{line}");
            changes.streams.push(line);
        }
        for name in &changes.queues_deleted {
            if let Ok(queue) = services.sqs.app_queue(name) {
                services.sqs.delete_queue(&queue);
            }
        }
        self.queues = queues;
        let topics =
            crate::sns::resources::define(&service, &intrinsics, &services.sns).map_err(|e| service.locate(e))?;
        for arn in self.topics.subscriptions.difference(&topics.subscriptions) {
            let _ = services.sns.unsubscribe(arn);
        }
        for arn in self.topics.topics.difference(&topics.topics) {
            services.sns.delete_topic(arn);
        }
        crate::s3::resources::define(&service, &intrinsics, services.s3.buckets()).map_err(|e| service.locate(e))?;
        changes.topics_created = topics.topics.difference(&self.topics.topics).cloned().collect();
        changes.topics_deleted = self.topics.topics.difference(&topics.topics).cloned().collect();
        self.topics = topics;
        let plan_routes = plan::route_lines(&http, &websocket, &self.endpoints);
        if plan_routes != self.routes {
            changes.routes = plan_routes.clone();
            self.routes = plan_routes;
        }
        services.http.apply(http);
        services.websocket.apply(websocket);
        if schedules != self.rules {
            changes.schedules = self.schedules.apply(schedules.clone());
            for line in &changes.schedules {
                tracing::info!(target: "schedule", "{line}");
            }
            self.rules = schedules;
        }
        self.service.store(Arc::new(service));
        Ok(changes)
    }
}

/// Prepares the code `service` needs (building what is new) and checks its plan. The code units become the
/// running ones only once the plan is checked. Returns the plan and the units prepared for it.
async fn checked_plan(
    code: &mut FunctionCode,
    service: Service,
    endpoints: &LocalEndpoints,
    options: &EmulatorOptions,
) -> Result<(Plan, Vec<String>), Error> {
    let units = code.units_of(&service)?;
    let prepared = code.prepare_missing(&service, &units).await?;
    let plan = Plan::check(service, endpoints, options, code)?;
    code.adopt(units);
    Ok((plan, prepared))
}

/// The services before the first plan: no functions, routes, queues or mappings yet. The queues are durable with
/// `--persist` (restored from the last run, which the log says), else in memory.
fn empty_services(service: &Service, endpoints: &LocalEndpoints, options: &EmulatorOptions) -> Result<Services, Error> {
    let idle_timeout = options.idle_timeout.unwrap_or(Duration::from_secs(service.offline.terminate_idle_lambda_time));
    let async_retry_delay = options.async_retry_delay.unwrap_or(crate::aws::lambda::ASYNC_FIRST_RETRY_DELAY);
    let lambda = Lambda::start(
        Vec::new(),
        &PoolSettings { max_concurrency: options.max_concurrency, idle_timeout, async_retry_delay },
    );
    let limits = WsLimits {
        idle_timeout: options
            .websocket_idle_timeout
            .unwrap_or(Duration::from_secs(service.offline.web_socket_idle_timeout)),
        max_duration: options
            .websocket_max_duration
            .unwrap_or(Duration::from_secs(service.offline.web_socket_hard_timeout)),
    };
    let listen_host = options.host.as_deref().unwrap_or(&service.offline.host);
    let guard = Arc::new(Guard::new(listen_host, &[&options.guard, &service.guard]));
    let websocket = WebSocketGateway::new(lambda.clone(), &service.stage, limits, WsRoutes::default(), guard.clone());
    let sqs = queues(service, endpoints, options.persist, lambda.journal().clone())?;
    let deliveries = crate::sns::delivery::Deliveries::new(&lambda, &sqs, &endpoints.lambda_url(), &service.region);
    let sns = Sns::new(&service.region, deliveries);
    let destinations = crate::s3::buckets::Destinations {
        lambda: Arc::downgrade(&lambda),
        sqs: Arc::downgrade(&sqs),
        sns: Arc::downgrade(&sns),
    };
    let buckets = crate::s3::buckets::Buckets::new(&s3_root(service, options.persist)?, &service.region, destinations);
    let s3 = crate::s3::S3Gateway::new(buckets, guard.clone())
        .map_err(|e| Error::Unavailable(format!("the S3 data folder cannot be used: {e}")))?;
    Ok(Services {
        http: Arc::new(HttpGateway::new(lambda.clone(), HttpRoutes::default())),
        websocket: Arc::new(websocket),
        guard,
        sns,
        pauses: Arc::default(),
        s3: Arc::new(s3),
        sqs,
        lambda,
    })
}

/// Where S3 keeps objects: `.ftb-offline/<stage>/s3` with `--persist` (kept across runs), else a temporary folder
/// removed when the emulator stops.
fn s3_root(service: &Service, persist: bool) -> Result<PathBuf, Error> {
    let root = if persist {
        service.state_dir().join("s3")
    } else {
        std::env::temp_dir().join(format!("{S3_SCRATCH_PREFIX}{}-{}", service.stage, uuid::Uuid::new_v4().simple()))
    };
    let unavailable =
        |e: std::io::Error| Error::Unavailable(format!("the S3 data folder {} cannot be created: {e}", root.display()));
    std::fs::create_dir_all(&root).map_err(unavailable)?;
    if persist {
        tracing::info!(target: "s3", "objects are kept in {} (stop:db --purge removes them)", root.display());
    } else {
        // Its owner, so that the next emulator can remove it should this one be killed before it cleans up.
        std::fs::write(root.join(OWNER_FILE), std::process::id().to_string()).map_err(unavailable)?;
        remove_abandoned_s3_folders(&root);
    }
    Ok(root)
}

/// The temporary S3 folders of emulators started without `--persist`.
const S3_SCRATCH_PREFIX: &str = "ftb-offline-s3-";

/// Removes the temporary S3 folders that emulators now gone left behind (one killed with SIGKILL cannot remove
/// its own): ours by name, with an owner that no longer runs.
fn remove_abandoned_s3_folders(mine: &std::path::Path) {
    let entries = std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten();
    for stale in entries.map(|entry| entry.path()).filter(|dir| dir != mine) {
        let ours = stale.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(S3_SCRATCH_PREFIX));
        if ours && is_abandoned(&stale) {
            tracing::debug!(target: "s3", "removing {}, left by an emulator that is gone", stale.display());
            let _ = std::fs::remove_dir_all(&stale);
        }
    }
}

fn queues(
    service: &Service,
    endpoints: &LocalEndpoints,
    persist: bool,
    journal: Arc<crate::journal::Journal>,
) -> Result<Arc<Sqs>, Error> {
    if !persist {
        tracing::info!(target: "sqs", "queues are in memory: their messages are lost when the emulator stops (start with --persist to keep them)");
        return Ok(Sqs::journaled(&service.region, &endpoints.lambda_url(), journal));
    }
    let file = service.state_dir().join(sqs::durable::FILE);
    let sqs =
        Sqs::durable(&service.region, &endpoints.lambda_url(), file.clone(), journal).map_err(Error::Unavailable)?;
    tracing::info!(target: "sqs", "queues are durable: every change is written to {} before it is acknowledged", file.display());
    Ok(sqs)
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
    if running.guard != edited.guard {
        needs_restart.push("custom.ftb-offline allowOrigins and allowHosts");
    }
    if running.stage != edited.stage || running.region != edited.region || running.service != edited.service {
        needs_restart.push("service, stage and region");
    }
    if !needs_restart.is_empty() {
        tracing::warn!(target: "watch", "{} changed: they take effect at the next start", needs_restart.join(" and "));
    }
}
