//! ftb-offline runs a Serverless Framework v3 application on one machine: its Rust handlers behind local
//! Lambda, API Gateway, SQS and DynamoDB endpoints. The library is the product; the `ftb-offline` binary is a
//! thin command line over [`Emulator`].
//!
//! - [`config`]: `serverless.yml` → typed [`config::Service`] (variables, intrinsics, located errors).
//! - [`lambda`]: handler processes, the Runtime API, the Invoke API; every invocation goes through it.
//! - [`apigw`]: API Gateway: the HTTP APIs (REST and HTTP API) and the WebSocket API.
//! - [`sqs`]: queues, the SQS API and event source mappings.
//! - [`sns`]: topics, subscriptions, the SNS API, and delivery to functions and queues.
//! - [`s3`]: buckets and objects on their own port, with CORS and event notifications.
//! - [`schedule`]: `schedule` events: EventBridge rules that invoke functions on a rate or cron.
//! - [`streams`]: `stream` events: DynamoDB Streams event source mappings on DynamoDB Local.
//! - [`console`]: the web console on its own port: the app at a glance, steered from the browser.
//! - [`journal`]: what happened lately (invocations, messages, pushes), for the console.
//! - [`dynamodb`]: DynamoDB Local in Docker (or from its jar) and the tables from `resources`.
//! - [`endpoint`]: the AWS endpoint on the Lambda port (Lambda Invoke API, SQS and SNS).
//! - [`guard`]: refuses what a web page could send to the local AWS APIs (foreign `Host`, `Origin`).
//! - [`functions`]: `serverless.yml` functions → built, staged binaries and specs ready to run.
//! - [`plan`]: `serverless.yml` → one checked plan; [`live`] applies it at start-up and after each edit.
//! - [`watch`]: when to rebuild handlers and reload `serverless.yml`.
//! - [`options`]: how to start an emulator.
//! - [`procfs`]: memory figures from `/proc`.
//! - [`server`]: serving hyper on our listeners; [`aws`]: AWS facts, names and endpoints; [`view`]: `config`
//!   output.

pub mod apigw;
pub mod aws;
pub mod config;
pub mod console;
pub mod dynamodb;
pub mod endpoint;
pub mod error;
pub mod functions;
pub mod guard;
pub mod journal;
pub mod lambda;
pub mod live;
pub mod log_writer;
pub mod options;
pub mod plan;
pub mod procfs;
pub mod s3;
pub mod schedule;
pub mod server;
pub mod sns;
pub mod sqs;
pub mod streams;
pub mod view;
pub mod watch;

pub use error::Error;
pub use options::{EmulatorOptions, DEFAULT_DYNAMODB_ENDPOINT};

use apigw::websocket::server::WebSocketGateway;
use arc_swap::ArcSwap;
use aws::endpoints::LocalEndpoints;
use config::{Event, Service};
use lambda::Lambda;
use live::{ConfigReloads, Live, Reloads};
use server::ShutdownTrigger;
use std::path::PathBuf;
use std::sync::Arc;

/// A running emulator. Dropping it stops it too; [`Emulator::stop`] waits until everything has ended.
pub struct Emulator {
    service: Arc<ArcSwap<Service>>,
    endpoints: LocalEndpoints,
    lambda: Arc<Lambda>,
    http: Arc<apigw::http::HttpGateway>,
    websocket: Arc<WebSocketGateway>,
    sqs: Arc<sqs::Sqs>,
    sns: Arc<sns::Sns>,
    s3: Arc<s3::S3Gateway>,
    reloads: Arc<Reloads>,
    /// What live edits change; shared with the watcher.
    live: Arc<tokio::sync::Mutex<Live>>,
    /// This emulator's staged builds, removed when it stops.
    staging: Vec<PathBuf>,
    trigger: ShutdownTrigger,
    servers: Vec<tokio::task::JoinHandle<()>>,
    /// The web console's address, when it runs.
    console_url: Option<String>,
}

impl Emulator {
    pub async fn start(options: EmulatorOptions) -> Result<Self, Error> {
        let service = config::load(&options.config_path, &options.load)?;
        let (trigger, shutdown) = server::shutdown_pair();
        let (listeners, endpoints) = Listeners::bind(&service, &options).await?;
        report_unsupported_events(&service);
        if options.auth.no_auth {
            tracing::warn!("--no-auth: no authorizer and no API key is checked; every route is open");
        }
        let live = Live::start(options.clone(), endpoints.clone(), service, shutdown.clone()).await?;
        let services = live.services().clone();
        let (service, reloads) = (live.service().clone(), live.reloads().clone());
        let mut staging = live.code().staging_dirs();
        staging.extend(live.scratch_dirs());
        let live = Arc::new(tokio::sync::Mutex::new(live));
        if options.watch {
            watch::start(live.clone(), shutdown.clone())?;
        }
        let router = Arc::new(endpoint::Endpoint {
            lambda: services.lambda.clone(),
            sqs: services.sqs.clone(),
            sns: services.sns.clone(),
            guard: services.guard.clone(),
        });
        let (http, websocket, s3) = (services.http.clone(), services.websocket.clone(), services.s3.clone());
        let mut console_url = None;
        let mut servers = Vec::new();
        if let Some(listener) = listeners.console {
            let port = listener.local_addr().expect("a bound listener has an address").port();
            let url = format!("http://{}:{port}", console::LOOPBACK);
            let console =
                console::Console::new(&services, service.clone(), endpoints.clone(), &options.dynamodb_endpoint, port);
            servers.push(server::serve(listener, move |request, _| console.clone().handle(request), shutdown.clone()));
            console_url = Some(url);
        }
        servers.extend([
            server::serve(listeners.s3, move |request, _| s3.clone().handle(request), shutdown.clone()),
            server::serve(listeners.lambda, move |request, _| router.clone().route(request), shutdown.clone()),
            server::serve(listeners.http, move |request, peer| http.clone().handle(request, peer), shutdown.clone()),
            server::serve(listeners.websocket, move |request, peer| websocket.clone().handle(request, peer), shutdown),
        ]);
        let console_part = console_url.as_ref().map(|url| format!(", console on {url}")).unwrap_or_default();
        tracing::info!(
            "ready: HTTP API on {}, WebSocket API on {}, Lambda, SQS and SNS APIs on {}, S3 on {}, DynamoDB at {}{console_part} ({} functions)",
            endpoints.http_url(),
            endpoints.websocket_url(),
            endpoints.lambda_url(),
            endpoints.s3_url(),
            options.dynamodb_endpoint,
            services.lambda.functions().len()
        );
        report_function_urls(&service.load_full(), &endpoints);
        report_api_keys(&services.http.routes().api_keys);
        Ok(Self {
            service,
            endpoints,
            http: services.http.clone(),
            lambda: services.lambda,
            websocket: services.websocket,
            sqs: services.sqs,
            sns: services.sns,
            s3: services.s3,
            reloads,
            live,
            staging,
            trigger,
            servers,
            console_url,
        })
    }

    /// The web console's address (`http://127.0.0.1:4003`), when it runs.
    pub fn console_url(&self) -> Option<&str> {
        self.console_url.as_deref()
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

    /// The REST API's keys (`provider.apiGateway.apiKeys`, values generated where none is given).
    pub fn api_keys(&self) -> Vec<apigw::auth::api_keys::Key> {
        self.http.routes().api_keys.keys().to_vec()
    }

    /// The queues.
    pub fn sqs(&self) -> &Arc<sqs::Sqs> {
        &self.sqs
    }

    /// The buckets' settings and where their objects are kept.
    pub fn s3_buckets(&self) -> Arc<s3::buckets::Buckets> {
        self.s3.buckets().clone()
    }

    /// The topics and subscriptions.
    pub fn sns(&self) -> &Arc<sns::Sns> {
        &self.sns
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
        for staging in self.staging.drain(..) {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
}

/// The three public listeners, bound before anything else so that handlers learn the real ports.
struct Listeners {
    lambda: tokio::net::TcpListener,
    http: tokio::net::TcpListener,
    websocket: tokio::net::TcpListener,
    s3: tokio::net::TcpListener,
    /// The web console's, unless it is off.
    console: Option<tokio::net::TcpListener>,
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
            "Lambda, SQS and SNS APIs",
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
        let s3 = server::bind(&host, options.s3_port.unwrap_or(service.s3.port), "S3 API", "--s3-port").await?;
        // Always on loopback, whatever --host says: the console steers everything, DynamoDB included.
        let console = match options.console_port {
            Some(port) => {
                Some(server::bind(console::LOOPBACK, port, "web console", "--console-port (or --no-console)").await?)
            }
            None => None,
        };
        let port =
            |listener: &tokio::net::TcpListener| listener.local_addr().expect("a bound listener has an address").port();
        let endpoints = LocalEndpoints::new(&host, port(&http), port(&websocket), port(&lambda), port(&s3));
        Ok((Self { lambda, http, websocket, s3, console }, endpoints))
    }
}

/// Each function URL, and a warning for those whose IAM authorization is not checked here.
fn report_function_urls(service: &Service, endpoints: &LocalEndpoints) {
    let urls = apigw::function_urls::FunctionUrls::from_service(service);
    for (function, url) in urls.listed(endpoints) {
        tracing::info!("function URL of {function}: {url}");
    }
    for function in urls.with_iam() {
        tracing::warn!(
            "function {function}: its URL has `authorizer: aws_iam`; requests are not signature-checked locally, so unsigned ones get through (on AWS they get 403)"
        );
    }
}

/// Each API key and its value, which `private: true` routes want in `x-api-key`.
fn report_api_keys(keys: &apigw::auth::api_keys::ApiKeys) {
    for key in keys.keys() {
        tracing::info!("API key {}: {}", key.name, key.value);
    }
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
