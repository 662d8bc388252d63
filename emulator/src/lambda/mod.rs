//! Lambda: every invocation in ftb-offline (HTTP, WebSocket, SQS, the Invoke API) goes through [`Lambda::invoke`],
//! which hands it to the function's [`pool`] of handler processes speaking the [`runtime_api`].
//!
//! - [`build`]: `cargo build` of the handler binaries `serverless.yml` points to.
//! - [`spec`]: a function ready to run (binary, limits, environment).
//! - [`pool`], [`worker`]: processes per function, as Lambda's execution environments.
//! - [`runtime_api`]: the 2018-06-01 Runtime API the processes poll.
//! - [`invoke_api`]: the 2015-03-31 Invoke API on the Lambda port, for SDKs and the AWS CLI.
//! - [`logs`]: START / END / REPORT lines and the log tail.

pub mod build;
pub mod client;
pub mod invoke_api;
pub mod logs;
pub mod pool;
pub mod runtime_api;
pub mod spec;
pub mod worker;

use bytes::Bytes;
use indexmap::IndexMap;
use pool::FunctionPool;
use runtime_api::RuntimeApi;
use spec::FunctionSpec;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// One invocation's input.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    pub payload: Bytes,
    /// Client context JSON (already base64-decoded), passed as `Lambda-Runtime-Client-Context`.
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub trace_id: Option<String>,
    /// A request id chosen by the caller (API Gateway reuses its own); a fresh one otherwise.
    pub request_id: Option<String>,
}

impl InvokeRequest {
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self { payload: payload.into(), ..Self::default() }
    }
}

/// What the function returned.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionResult {
    Success(Bytes),
    /// An error document (`{"errorType", "errorMessage", …}`) from the handler or from Lambda itself.
    Error {
        error_type: String,
        payload: Bytes,
    },
}

#[derive(Debug, Clone)]
pub struct InvokeResponse {
    pub request_id: String,
    pub result: FunctionResult,
    /// The invocation's log: START, the handler's lines, END, REPORT.
    pub log: String,
}

/// How processes are managed, beyond what `serverless.yml` says per function.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Processes per function when the function sets no `reservedConcurrency`.
    pub max_concurrency: usize,
    pub idle_timeout: Duration,
}

/// The functions of a service and their processes.
pub struct Lambda {
    pools: IndexMap<String, Arc<FunctionPool>>,
}

impl Lambda {
    pub fn start(specs: Vec<FunctionSpec>, settings: &PoolSettings) -> Arc<Self> {
        let arns: HashMap<String, String> = specs.iter().map(|s| (s.key.clone(), s.arn.clone())).collect();
        let timeouts = specs.iter().map(|s| (s.key.clone(), s.timeout)).collect();
        let runtime = RuntimeApi::new(arns, timeouts);
        let pools = specs
            .into_iter()
            .map(|spec| (spec.key.clone(), FunctionPool::new(spec, runtime.clone(), settings.idle_timeout)))
            .collect();
        Arc::new(Self { pools })
    }

    /// Finds a function by key (`submitTask`), deployed name (`service-stage-submitTask`) or ARN, with an
    /// optional `:$LATEST` qualifier.
    pub fn find(&self, name: &str) -> Option<&Arc<FunctionPool>> {
        let name = name.find(":function:").map_or(name, |i| &name[i + ":function:".len()..]);
        let name = match name.rsplit_once(':') {
            Some((base, crate::aws::lambda::VERSION_LATEST)) => base,
            _ => name,
        };
        self.pools.values().find(|pool| pool.spec.key == name || pool.spec.name == name)
    }

    pub fn functions(&self) -> impl Iterator<Item = &FunctionSpec> {
        self.pools.values().map(|pool| &pool.spec)
    }

    /// Invokes a function and waits for its result. `None` when no function has that name.
    pub async fn invoke(&self, name: &str, request: InvokeRequest) -> Option<InvokeResponse> {
        let pool = self.find(name)?.clone();
        Some(pool.invoke(request).await)
    }

    /// Hot reload: the functions that run `binary` start new processes from `path`.
    pub fn reload_binary(&self, binary: &str, path: &std::path::Path) -> Vec<String> {
        let mut reloaded = Vec::new();
        for pool in self.pools.values().filter(|p| p.spec.binary_name == binary) {
            pool.reload(path.to_path_buf());
            reloaded.push(pool.spec.key.clone());
        }
        reloaded
    }

    /// Stops every handler process.
    pub fn shutdown(&self) {
        for pool in self.pools.values() {
            pool.shutdown();
        }
    }
}
