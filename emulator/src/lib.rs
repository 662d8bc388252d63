//! ftb-offline runs a Serverless Framework v3 application on one machine: its Rust handlers behind local
//! Lambda, API Gateway, SQS and DynamoDB endpoints. The library is the product; the `ftb-offline` binary is a
//! thin command line over [`Emulator`].
//!
//! - [`config`]: `serverless.yml` → typed [`config::Service`] (variables, intrinsics, located errors).
//! - [`lambda`]: handler processes, the Runtime API, the Invoke API; every invocation goes through it.
//! - [`apigw`]: API Gateway: the HTTP APIs (REST and HTTP API) and the WebSocket API.
//! - [`sqs`]: queues, the SQS API and event source mappings.
//! - [`dynamodb`]: DynamoDB Local in Docker (or from its jar) and the tables from `resources`.
//! - [`endpoint`]: the AWS endpoint on the Lambda port (Lambda Invoke API and SQS).
//! - [`functions`]: `serverless.yml` functions → built, staged binaries and specs ready to run.
//! - [`live`], [`watch`]: hot reload of the handler crates and live edits of `serverless.yml`.
//! - [`procfs`]: memory figures from `/proc`.
//! - [`server`]: serving hyper on our listeners; [`aws`]: AWS facts as constants; [`view`]: `config` output.

pub mod apigw;
pub mod aws;
pub mod config;
pub mod dynamodb;
pub mod endpoint;
mod error;
pub mod functions;
pub mod lambda;
pub mod live;
pub mod procfs;
pub mod server;
pub mod sqs;
pub mod view;
pub mod watch;

pub use error::Error;

use apigw::http::HttpGateway;
use apigw::websocket::server::{WebSocketGateway, WsLimits};
use arc_swap::ArcSwap;
use aws::endpoints::LocalEndpoints;
use config::intrinsics::Intrinsics;
use config::{Event, LoadOptions, Service};
use functions::Handlers;
use lambda::build::BuildMode;
use lambda::{Lambda, PoolSettings};
use live::{ConfigReloads, Live, Reloads};
use server::ShutdownTrigger;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Default DynamoDB Local endpoint (serverless-dynamodb-local's port).
pub const DEFAULT_DYNAMODB_ENDPOINT: &str = "http://127.0.0.1:8000";

/// How to start an emulator. Port `Some(0)` picks a free port; the bound ones are in [`Emulator::endpoints`].
#[derive(Clone)]
pub struct EmulatorOptions {
    pub config_path: PathBuf,
    pub load: LoadOptions,
    /// Listen address; `custom.serverless-offline.host` or 127.0.0.1 when unset.
    pub host: Option<String>,
    pub http_port: Option<u16>,
    pub websocket_port: Option<u16>,
    pub lambda_port: Option<u16>,
    pub build: BuildMode,
    /// Processes per function when it sets no `reservedConcurrency`.
    pub max_concurrency: usize,
    /// The wait before the first retry of a failed asynchronous invocation (Lambda's 1 minute; the second
    /// waits twice as long). Shorter for tests.
    pub async_retry_delay: Option<Duration>,
    /// Overrides `custom.serverless-offline.terminateIdleLambdaTime`.
    pub idle_timeout: Option<Duration>,
    pub dynamodb_endpoint: String,
    /// Create the tables of a live-edited `serverless.yml` at `dynamodb_endpoint` (`start:with-db` does).
    pub migrate_tables: bool,
    /// Overrides API Gateway's integration timeouts (29 s REST; the function's timeout + 0.5 s, at most 30 s, for
    /// HTTP APIs), so tests can reach them quickly.
    pub integration_timeout: Option<Duration>,
    /// Override the WebSocket idle timeout and maximum connection duration (`webSocketIdleTimeout` /
    /// `webSocketHardTimeout`, API Gateway's 10 minutes and 2 hours).
    pub websocket_idle_timeout: Option<Duration>,
    pub websocket_max_duration: Option<Duration>,
    /// Keep the queues (and their messages) in `.ftb-offline/<stage>/sqs.json`, written before each change is
    /// acknowledged, and restore them at start (`--persist`).
    pub persist: bool,
    /// Rebuild and reload handlers when their source changes, and apply edits of `serverless.yml` (the CLI's
    /// default; off with `--no-watch`).
    pub watch: bool,
}

impl EmulatorOptions {
    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        Self {
            config_path: config_path.into(),
            load: LoadOptions::default(),
            host: None,
            http_port: None,
            websocket_port: None,
            lambda_port: None,
            build: BuildMode::Build { release: false },
            max_concurrency: 10,
            async_retry_delay: None,
            idle_timeout: None,
            dynamodb_endpoint: DEFAULT_DYNAMODB_ENDPOINT.to_string(),
            migrate_tables: false,
            persist: false,
            integration_timeout: None,
            websocket_idle_timeout: None,
            websocket_max_duration: None,
            watch: false,
        }
    }
}

/// A running emulator. Dropping it stops it too; [`Emulator::stop`] waits until everything has ended.
pub struct Emulator {
    service: Arc<ArcSwap<Service>>,
    endpoints: LocalEndpoints,
    lambda: Arc<Lambda>,
    websocket: Arc<WebSocketGateway>,
    sqs: Arc<sqs::Sqs>,
    reloads: Arc<Reloads>,
    /// What live edits change; shared with the watcher.
    live: Arc<tokio::sync::Mutex<Live>>,
    /// This emulator's staged binaries, removed when it stops.
    staging: Option<PathBuf>,
    trigger: ShutdownTrigger,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    pub async fn start(options: EmulatorOptions) -> Result<Self, Error> {
        let service = config::load(&options.config_path, &options.load)?;
        let (trigger, shutdown) = server::shutdown_pair();
        let (listeners, endpoints) = Listeners::bind(&service, &options).await?;
        report_unsupported_events(&service);
        let handlers = Handlers::prepare(&service, options.build).await?;
        let staged = handlers.as_ref().map(|h| h.staged.clone()).unwrap_or_default();
        let specs = functions::specs(&service, &endpoints, &options, &staged)?;
        let idle_timeout =
            options.idle_timeout.unwrap_or(Duration::from_secs(service.offline.terminate_idle_lambda_time));
        let async_retry_delay = options.async_retry_delay.unwrap_or(aws::lambda::ASYNC_FIRST_RETRY_DELAY);
        let lambda = Lambda::start(
            specs,
            &PoolSettings { max_concurrency: options.max_concurrency, idle_timeout, async_retry_delay },
        );
        let staging = handlers.as_ref().map(Handlers::staging_dir);
        let sqs = queues(&service, &endpoints, options.persist)?;
        let (queues, mappings) = start_sqs(&service, &endpoints, &lambda, &sqs, shutdown.clone())?;
        let router = Arc::new(endpoint::Endpoint { lambda: lambda.clone(), sqs: sqs.clone() });
        let gateway =
            Arc::new(ArcSwap::from_pointee(HttpGateway::new(&service, lambda.clone(), options.integration_timeout)?));
        let websocket = Arc::new(WebSocketGateway::new(&service, lambda.clone(), websocket_limits(&service, &options)));
        for line in route_lines(&gateway.load(), &websocket, &endpoints) {
            tracing::info!(target: "routes", "{line}");
        }
        let service = Arc::new(ArcSwap::from_pointee(service));
        let live = Live::new(
            options.clone(),
            endpoints.clone(),
            service.clone(),
            lambda.clone(),
            gateway.clone(),
            websocket.clone(),
            sqs.clone(),
            queues,
            mappings,
            handlers,
        );
        let reloads = live.reloads.clone();
        let live = Arc::new(tokio::sync::Mutex::new(live));
        if options.watch {
            watch::start(live.clone(), shutdown.clone())?;
        }
        let ws = websocket.clone();
        let servers = vec![
            server::serve(listeners.lambda, move |request, _| router.clone().route(request), shutdown.clone()),
            server::serve(
                listeners.http,
                move |request, peer| gateway.load_full().handle(request, peer),
                shutdown.clone(),
            ),
            server::serve(listeners.websocket, move |request, peer| ws.clone().handle(request, peer), shutdown),
        ];
        tracing::info!(
            "ready: HTTP API on {}, WebSocket API on {}, Lambda and SQS APIs on {}, DynamoDB at {} ({} functions)",
            endpoints.http_url(),
            endpoints.websocket_url(),
            endpoints.lambda_url(),
            options.dynamodb_endpoint,
            lambda.functions().len()
        );
        Ok(Self { service, endpoints, lambda, websocket, sqs, reloads, live, staging, trigger, servers })
    }

    /// Where each API answers, with the real bound ports.
    pub fn endpoints(&self) -> &LocalEndpoints {
        &self.endpoints
    }

    /// The service as last applied (a live edit replaces it).
    pub fn service(&self) -> Arc<Service> {
        self.service.load_full()
    }

    pub fn lambda(&self) -> &Arc<Lambda> {
        &self.lambda
    }

    /// Hot reloads of the handler crates so far: (succeeded, failed builds).
    pub fn reloads(&self) -> (u64, u64) {
        self.reloads.builds()
    }

    /// Live edits of `serverless.yml` so far.
    pub fn config_reloads(&self) -> ConfigReloads {
        self.reloads.configs()
    }

    /// Applies `serverless.yml` as it is on disk now, as the watcher does after an edit.
    pub async fn reload_config(&self) -> ConfigReloads {
        self.live.lock().await.reload_config().await;
        self.config_reloads()
    }

    /// The queues.
    pub fn sqs(&self) -> &Arc<sqs::Sqs> {
        &self.sqs
    }

    /// The ids of the open WebSocket connections.
    pub fn websocket_connection_ids(&self) -> Vec<String> {
        self.websocket.connections().ids()
    }

    /// Stops the servers and every handler process.
    pub async fn stop(mut self) {
        self.trigger.trigger();
        self.lambda.shutdown();
        for server in self.servers.drain(..) {
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.trigger.trigger();
        self.lambda.shutdown();
        if let Some(staging) = self.staging.take() {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
}

/// The three public listeners, bound before anything else so that handlers learn the real ports.
struct Listeners {
    lambda: tokio::net::TcpListener,
    http: tokio::net::TcpListener,
    websocket: tokio::net::TcpListener,
}

impl Listeners {
    async fn bind(service: &Service, options: &EmulatorOptions) -> Result<(Self, LocalEndpoints), Error> {
        let host = options.host.clone().unwrap_or_else(|| service.offline.host.clone());
        if !is_loopback(&host) {
            tracing::warn!(
                "listening on {host}: other machines on the network can reach this emulator and its handlers"
            );
        }
        let ports = &service.offline;
        let lambda = server::bind(
            &host,
            options.lambda_port.unwrap_or(ports.lambda_port),
            "Lambda and SQS APIs",
            "--lambda-port",
        )
        .await?;
        let http = server::bind(&host, options.http_port.unwrap_or(ports.http_port), "HTTP API", "--http-port").await?;
        let websocket = server::bind(
            &host,
            options.websocket_port.unwrap_or(ports.websocket_port),
            "WebSocket API",
            "--websocket-port",
        )
        .await?;
        let port =
            |listener: &tokio::net::TcpListener| listener.local_addr().expect("a bound listener has an address").port();
        let endpoints = LocalEndpoints::new(&host, port(&http), port(&websocket), port(&lambda));
        Ok((Self { lambda, http, websocket }, endpoints))
    }
}

/// The queues: durable with `--persist` (restored from the last run), else in memory, which the log says.
fn queues(service: &Service, endpoints: &LocalEndpoints, persist: bool) -> Result<Arc<sqs::Sqs>, Error> {
    if !persist {
        tracing::info!(target: "sqs", "queues are in memory: their messages are lost when the emulator stops (start with --persist to keep them)");
        return Ok(sqs::Sqs::new(&service.region, &endpoints.lambda_url()));
    }
    let file = service.state_dir().join(sqs::durable::FILE);
    let sqs = sqs::Sqs::durable(&service.region, &endpoints.lambda_url(), file.clone()).map_err(Error::Unavailable)?;
    tracing::info!(target: "sqs", "queues are durable: every change is written to {} before it is acknowledged", file.display());
    Ok(sqs)
}

/// Creates the queues from `resources` and starts the event source mappings.
fn start_sqs(
    service: &Service,
    endpoints: &LocalEndpoints,
    lambda: &Arc<Lambda>,
    sqs: &Arc<sqs::Sqs>,
    shutdown: server::Shutdown,
) -> Result<(BTreeSet<String>, sqs::mapping::Mappings), Error> {
    let intrinsics = Intrinsics::new(service, endpoints);
    let queues = sqs::resources::define_queues(service, &intrinsics, sqs).map_err(|e| service.locate(e))?;
    let mappings = live::resolve_mappings(service, &intrinsics, sqs, lambda)?;
    Ok((queues, sqs::mapping::Mappings::start(sqs.clone(), lambda.clone(), mappings, shutdown)))
}

fn websocket_limits(service: &Service, options: &EmulatorOptions) -> WsLimits {
    WsLimits {
        idle_timeout: options
            .websocket_idle_timeout
            .unwrap_or(Duration::from_secs(service.offline.web_socket_idle_timeout)),
        max_duration: options
            .websocket_max_duration
            .unwrap_or(Duration::from_secs(service.offline.web_socket_hard_timeout)),
    }
}

/// Every HTTP and WebSocket route with its URL and function, one line each, as logged at start and after a
/// live edit that changes them.
pub(crate) fn route_lines(
    gateway: &HttpGateway,
    websocket: &WebSocketGateway,
    endpoints: &LocalEndpoints,
) -> Vec<String> {
    let base = endpoints.http_url();
    let mut lines = Vec::new();
    for route in gateway.routes().rest_routes() {
        lines.push(format!(
            "{:<7} {base}{}{} → {}",
            route.method,
            gateway.rest_prefix(),
            route.resource,
            route.function
        ));
    }
    for route in gateway.routes().http_api_routes() {
        let path = if route.resource == "*" { "/{any}".to_string() } else { route.resource.clone() };
        lines.push(format!("{:<7} {base}{path} → {} (HTTP API)", route.method, route.function));
    }
    for (route, function) in websocket.route_keys() {
        lines.push(format!("{route:<12} {} → {function}", endpoints.websocket_url()));
    }
    lines
}

fn report_unsupported_events(service: &Service) {
    for function in service.functions.values() {
        for event in &function.events {
            if let Event::Unsupported { kind, .. } = event {
                tracing::warn!(
                    "function {}: `{kind}` events are not emulated; the function can still be invoked directly",
                    function.key
                );
            }
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
