//! The `custom` settings ftb-offline reads under the keys of the plugins it replaces: `custom.serverless-offline`
//! (host, ports, timeouts), `custom.s3` (serverless-s3-local's port) and `custom.dynamodb.start`
//! (serverless-dynamodb-local's), each with its plugin's defaults.

use super::fields::lenient_bool;
use crate::aws::endpoints::LocalEndpoints;
use serde::{Deserialize, Serialize};

/// `custom.s3`, as serverless-s3-local reads it: the S3 port (its other keys are left to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3Settings {
    pub port: u16,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self { port: 4569 }
    }
}

/// `custom.serverless-offline`, with serverless-offline's key names and ftb-offline's default ports.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OfflineSettings {
    pub host: String,
    pub http_port: u16,
    pub websocket_port: u16,
    pub lambda_port: u16,
    #[serde(deserialize_with = "lenient_bool")]
    pub no_prepend_stage_in_url: bool,
    #[serde(deserialize_with = "lenient_bool")]
    pub no_timeout: bool,
    /// Seconds before an idle handler process is stopped (serverless-offline's terminateIdleLambdaTime).
    pub terminate_idle_lambda_time: u64,
    pub web_socket_idle_timeout: u64,
    pub web_socket_hard_timeout: u64,
}

impl OfflineSettings {
    /// The endpoints these settings ask for, with a listen host and `[http, websocket, lambda]` ports given on the
    /// command line; the ports actually bound may differ (port 0).
    pub fn endpoints(&self, host: Option<&str>, ports: [Option<u16>; 4], s3: &S3Settings) -> LocalEndpoints {
        LocalEndpoints::new(
            host.unwrap_or(&self.host),
            ports[0].unwrap_or(self.http_port),
            ports[1].unwrap_or(self.websocket_port),
            ports[2].unwrap_or(self.lambda_port),
            ports[3].unwrap_or(s3.port),
        )
    }
}

impl Default for OfflineSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_string(),
            http_port: 4000,
            websocket_port: 4001,
            lambda_port: 4002,
            no_prepend_stage_in_url: false,
            no_timeout: false,
            terminate_idle_lambda_time: 60,
            web_socket_idle_timeout: 600,
            web_socket_hard_timeout: 7200,
        }
    }
}

/// `custom.dynamodb.start`, with serverless-dynamodb-local's key names. Its other keys (heapMax…) are accepted
/// and ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DynamoDbLocalSettings {
    /// Host port DynamoDB Local listens on (8000).
    pub port: u16,
    /// `true` (the default) keeps the data in memory; `false` keeps it on disk, as `--persist` does.
    #[serde(deserialize_with = "lenient_bool")]
    pub in_memory: bool,
    /// The image to run (amazon/dynamodb-local:latest).
    pub docker_image: String,
    /// Use a DynamoDB Local that is already running on `port` instead of starting one.
    #[serde(deserialize_with = "lenient_bool")]
    pub no_start: bool,
    /// Create the tables from `resources` (serverless-dynamodb-local's `migrate`); on unless set to false.
    #[serde(deserialize_with = "lenient_bool")]
    pub migrate: bool,
    /// Seed every category of `custom.dynamodb.seed` once the tables exist.
    #[serde(deserialize_with = "lenient_bool")]
    pub seed: bool,
}

/// Amazon's DynamoDB Local image.
pub const DEFAULT_DYNAMODB_IMAGE: &str = "amazon/dynamodb-local:latest";

impl Default for DynamoDbLocalSettings {
    fn default() -> Self {
        Self {
            port: 8000,
            in_memory: true,
            docker_image: DEFAULT_DYNAMODB_IMAGE.to_string(),
            no_start: false,
            migrate: true,
            seed: false,
        }
    }
}
