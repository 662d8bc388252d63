//! A function ready to run: what its processes start from, its limits, and the environment real Lambda gives a process.

use super::runtimes::Launch;
use crate::aws::endpoints::LocalEndpoints;
use crate::aws::lambda::VERSION_LATEST;
use crate::aws::names;
use std::time::Duration;

/// The access key id handlers get: shaped like Lambda's temporary ones (ASIA…), letters and digits only.
pub const DUMMY_ACCESS_KEY_ID: &str = "ASIAFTBOFFLINELOCAL0";
pub const DUMMY_SECRET_ACCESS_KEY: &str = "ftbOfflineLocalSecret";

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// Key under `functions:` (`submitTask`).
    pub key: String,
    /// Deployed name (`fault-tolerant-app-backend-dev-submitTask`).
    pub name: String,
    pub arn: String,
    /// The code unit the function runs (the cargo binary `submit-task`): functions that share one reload together.
    pub unit: String,
    /// What the first processes start from (a hot reload moves the pool on to newer builds).
    pub launch: Launch,
    pub handler: String,
    pub region: String,
    pub runtime: String,
    pub memory_mb: u32,
    /// `None` with `noTimeout`.
    pub timeout: Option<Duration>,
    pub max_concurrency: usize,
    /// Retries of a failed asynchronous (`Event`) invocation, and how old its event may get.
    pub async_retries: u32,
    pub max_event_age: Duration,
    /// The function's own environment, intrinsics resolved; applied last, as on AWS.
    pub environment: Vec<(String, String)>,
    pub endpoints: LocalEndpoints,
    /// Where DynamoDB Local answers, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub dynamodb_endpoint: String,
    /// Why its code cannot run (not defined or not built); invocations fail with this.
    pub unavailable: Option<String>,
    /// External extensions from the function's layers, by the name each registers under (its file name), started
    /// beside each of its processes.
    pub extensions: Vec<(String, std::path::PathBuf)>,
}

impl FunctionSpec {
    /// Whether `other` runs differently, leaving aside which build of its code each starts from (hot reload
    /// moves that on).
    pub fn same_settings(&self, other: &FunctionSpec) -> bool {
        let unbuilt =
            |spec: &FunctionSpec| FunctionSpec { launch: Launch::default(), unavailable: None, ..spec.clone() };
        unbuilt(self) == unbuilt(other)
    }

    pub fn log_group(&self) -> String {
        names::log_group(&self.name)
    }

    /// The environment of one process: nothing inherited but PATH, Lambda's own variables, dummy credentials,
    /// SDK endpoints pointing at the local services, the runtime's variables (`NODE_PATH`, …), then the
    /// function's environment from `serverless.yml`, and `IS_OFFLINE=true` last (serverless-offline's
    /// convention, which many apps read; it wins there too).
    pub fn process_environment(&self, worker_id: &str, runtime_api: &str, launch: &Launch) -> Vec<(String, String)> {
        let task_root = &launch.working_dir;
        let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let day = date.get(..10).unwrap_or("1970-01-01").replace('-', "/");
        let lambda_url = self.endpoints.lambda_url();
        let mut env: Vec<(String, String)> = vec![
            ("PATH", std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())),
            ("LANG", "en_US.UTF-8".into()),
            ("TZ", ":UTC".into()),
            ("_HANDLER", self.handler.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", self.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", VERSION_LATEST.into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", self.log_group()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("{day}/[{VERSION_LATEST}]{worker_id}")),
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            // Dummy temporary credentials. DynamoDB Local accepts only letters and digits in key ids.
            ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY.into()),
            ("AWS_SESSION_TOKEN", "ftbOfflineLocalSession".into()),
            ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
            ("LAMBDA_RUNTIME_DIR", task_root.display().to_string()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb_endpoint.clone()),
            ("AWS_ENDPOINT_URL_SQS", lambda_url.clone()),
            ("AWS_ENDPOINT_URL_SNS", lambda_url.clone()),
            ("AWS_ENDPOINT_URL_S3", self.endpoints.s3_url()),
            ("AWS_ENDPOINT_URL_LAMBDA", lambda_url),
            ("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", self.endpoints.management_url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // Lambda sets AWS_EXECUTION_ENV for its managed runtimes only, not for `provided.*`.
        if !self.runtime.starts_with("provided") {
            env.push(("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{}", self.runtime)));
        }
        env.extend(launch.environment.iter().cloned());
        for name in ["RUST_BACKTRACE", "RUST_LOG", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_LOG_FORMAT"] {
            if let Ok(value) = std::env::var(name) {
                env.push((name.to_string(), value));
            }
        }
        env.extend(self.environment.iter().cloned());
        env.push(("IS_OFFLINE".into(), "true".into()));
        env
    }
}
