//! How to start an emulator ([`EmulatorOptions`]): the command line's settings and the library's, beside what
//! `serverless.yml` says. Only the top of the crate and the parts that apply a plan read them.

use crate::apigw::auth::AuthOptions;
use crate::config::LoadOptions;
use crate::guard::GuardSettings;
use crate::lambda::runtimes::cargo::BuildMode;
use std::path::PathBuf;
use std::time::Duration;

/// Default DynamoDB Local endpoint (serverless-dynamodb-local's port).
pub const DEFAULT_DYNAMODB_ENDPOINT: &str = "http://127.0.0.1:8000";

/// The web console's port unless `--console-port` or `--no-console` says otherwise.
pub const DEFAULT_CONSOLE_PORT: u16 = 4003;

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
    /// The S3 API's port; `custom.s3.port` (else 4569) when `None`.
    pub s3_port: Option<u16>,
    /// The web console's port; no console when `None` (the library's default; the CLI's is
    /// [`DEFAULT_CONSOLE_PORT`]).
    pub console_port: Option<u16>,
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
    /// Origins and hosts the AWS APIs accept besides loopback (`--allow-origin`, `--allow-host`).
    pub guard: GuardSettings,
    /// The interpreters of Node.js and Python functions (`--node`, `--python`); found on PATH (Python: in the
    /// active or the project's virtual environment first) when unset.
    pub node: Option<PathBuf>,
    pub python: Option<PathBuf>,
    /// `--no-auth` and `--ignore-jwt-signature`.
    pub auth: AuthOptions,
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
            s3_port: None,
            console_port: None,
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
            guard: GuardSettings::default(),
            node: None,
            python: None,
            auth: AuthOptions::default(),
        }
    }
}
