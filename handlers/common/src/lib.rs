//! Shared code of the Fault Tolerant App's handlers. Everything here reads the standard Lambda and AWS SDK
//! environment only, so the same binaries run on AWS and on ftb-offline without knowing which.
//!
//! - [`task`]: the task model and the wire formats the frontend relies on.
//! - [`store`]: tasks and WebSocket connections in DynamoDB.
//! - [`queue`]: the message that carries a task through SQS.
//! - [`stats`]: the counts of task outcomes behind `GET /stats`.
//! - [`http`]: JSON responses with the CORS headers from `CORS_ORIGINS` / `CORS_HEADERS`.
//! - [`push`]: status updates to every connected browser, dropping connections that are gone.
//! - [`websocket`]: the WebSocket route functions' event and response.
//! - [`env`]: the environment variables the handlers need, with clear errors.

pub mod env;
pub mod http;
pub mod push;
pub mod queue;
pub mod stats;
pub mod store;
pub mod task;
pub mod websocket;

/// The AWS configuration from the standard environment (region, credentials, `AWS_ENDPOINT_URL_*`).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Logs through `tracing` as CloudWatch shows them well: plain text (no colours), no timestamp (CloudWatch adds
/// one), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (default info). Once per process.
pub fn init_logging() {
    let level =
        std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level.to_lowercase()))
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}

/// What a handler's error is (boxed, as lambda_runtime expects).
pub type Error = lambda_http::Error;
