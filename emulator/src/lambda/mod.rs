//! Lambda: every invocation in ftb-offline (HTTP, WebSocket, SQS, the Invoke API) goes through [`Lambda::invoke`],
//! which hands it to the function's [`pool`] of handler processes speaking the [`runtime_api`].
//!
//! - [`runtimes`]: how a function's code becomes a process (Rust: cargo builds and stages the binary).
//! - [`spec`]: a function ready to run (its code, limits, environment).
//! - [`pool`], [`worker`]: processes per function, as Lambda's execution environments.
//! - [`handoff`]: what the pool hands a process and how the Runtime API reports the end (no import circle).
//! - [`runtime_api`]: the 2018-06-01 Runtime API the processes poll.
//! - [`extensions`], [`extensions_api`]: extensions (internal, and external from layers) and the 2020-01-01
//!   Extensions API beside it.
//! - [`telemetry`], [`telemetry_api`]: the Telemetry API (and the older Logs API) extensions subscribe with.
//! - [`result`]: what an invocation returns, and Lambda's error document.
//! - [`invoke_api`]: the 2015-03-31 Invoke API on the Lambda port, for SDKs and the AWS CLI.
//! - [`stream_api`]: InvokeWithResponseStream's event stream.
//! - [`logs`]: START / END / REPORT lines and the log tail; `reporting`: what an ended invocation tells the
//!   journal and telemetry; `pace`: a streamed response's pace.

pub mod client;
pub mod extensions;
pub mod extensions_api;
pub mod handoff;
pub mod invoke_api;
pub mod logs;
mod pace;
pub mod pool;
mod reporting;
pub mod result;
pub mod runtime_api;
pub mod runtimes;
pub mod spec;
pub mod stream_api;
pub mod telemetry;
pub mod telemetry_api;
pub mod worker;

use crate::journal::Journal;
pub use crate::journal::Trigger;
use bytes::Bytes;
use indexmap::IndexMap;
use pool::FunctionPool;
pub use result::{FunctionResult, ResponseStream, StreamedResponse};
use spec::FunctionSpec;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One invocation's input.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    pub payload: Bytes,
    /// Client context JSON (already base64-decoded), passed as `Lambda-Runtime-Client-Context`.
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub trace_id: Option<String>,
    /// A request id chosen by the caller (every attempt of an asynchronous invocation shares one); a fresh one
    /// otherwise.
    pub request_id: Option<String>,
    /// What invoked the function, for the journal.
    pub trigger: Trigger,
}

impl InvokeRequest {
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Self { payload: payload.into(), ..Self::default() }
    }

    /// The same request, journaled as invoked by `trigger`.
    pub fn by(self, trigger: Trigger) -> Self {
        Self { trigger, ..self }
    }
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
    /// The wait before the first retry of a failed asynchronous invocation; the next waits twice as long.
    pub async_retry_delay: Duration,
}

/// The functions of a service and their processes. The set of functions can change while it serves (a live
/// edit of `serverless.yml`); an invocation keeps the pool it started on until it ends.
pub struct Lambda {
    pools: RwLock<IndexMap<String, Arc<FunctionPool>>>,
    idle_timeout: Duration,
    async_retry_delay: Duration,
    /// Where every finished invocation is written, and the other services write what they do.
    journal: Arc<Journal>,
}

/// What [`Lambda::apply`] changed, by function key.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FunctionChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl FunctionChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl Lambda {
    pub fn start(specs: Vec<FunctionSpec>, settings: &PoolSettings) -> Arc<Self> {
        let journal = Journal::new();
        let pools = specs
            .into_iter()
            .map(|spec| (spec.key.clone(), FunctionPool::new(spec, settings.idle_timeout, journal.clone())))
            .collect();
        Arc::new(Self {
            pools: RwLock::new(pools),
            idle_timeout: settings.idle_timeout,
            async_retry_delay: settings.async_retry_delay,
            journal,
        })
    }

    /// The emulator's journal: invocations, and what the other services record beside them.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Finds a function by key (`submitTask`), deployed name (`service-stage-submitTask`) or ARN, with an
    /// optional `:$LATEST` qualifier.
    pub fn find(&self, name: &str) -> Option<Arc<FunctionPool>> {
        let name = name.find(":function:").map_or(name, |i| &name[i + ":function:".len()..]);
        let name = match name.rsplit_once(':') {
            Some((base, crate::aws::lambda::VERSION_LATEST)) => base,
            _ => name,
        };
        let pools = self.pools.read().unwrap();
        pools.values().find(|pool| pool.spec.key == name || pool.spec.name == name).cloned()
    }

    /// The functions as they are now.
    pub fn functions(&self) -> Vec<FunctionSpec> {
        self.pools.read().unwrap().values().map(|pool| pool.spec.clone()).collect()
    }

    /// Invokes a function and waits for its whole result (a streamed response read to its end). `None` when no
    /// function has that name.
    pub async fn invoke(&self, name: &str, request: InvokeRequest) -> Option<InvokeResponse> {
        let mut response = self.invoke_streaming(name, request).await?;
        let stream = match &response.result {
            FunctionResult::Streaming(stream) => Some(stream.clone()),
            _ => None,
        };
        response.result = response.result.whole().await;
        // A stream's log is whole once the stream has ended, as it has now.
        if let Some(log) = stream.as_ref().and_then(|stream| stream.final_log()) {
            response.log = log.to_string();
        }
        Some(response)
    }

    /// Invokes a function; a streamed response comes back as [`FunctionResult::Streaming`] as soon as the
    /// function starts it, for callers that pass it on as it arrives. `None` when no function has that name.
    ///
    /// The invocation runs on a task of its own, so a caller that goes away (a client closing its connection
    /// mid-request) does not stop it: as on Lambda, it runs to its end and its process stays warm for the next.
    pub async fn invoke_streaming(&self, name: &str, request: InvokeRequest) -> Option<InvokeResponse> {
        let pool = self.find(name)?;
        let invocation = tokio::spawn(async move { FunctionPool::invoke(&pool, request).await });
        match invocation.await {
            Ok(response) => Some(response),
            // Nothing aborts the task; it is only cancelled when the runtime shuts down under both.
            Err(err) => std::panic::resume_unwind(err.try_into_panic().unwrap_or_else(|_| Box::new("cancelled"))),
        }
    }

    /// An asynchronous (`Event`) invocation: queued and run in the background. A function error is retried up
    /// to the function's `maximumRetryAttempts` (2 by default), after the retry delay and then twice that, as
    /// long as the event is younger than its `maximumEventAge`; then the event is dropped, with a warning.
    /// Returns the request id, which every attempt shares. `None` when no function has that name.
    pub fn invoke_event(self: &Arc<Self>, name: &str, request: InvokeRequest) -> Option<String> {
        let spec = self.find(name)?.spec.clone();
        let request_id = request.request_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let request = InvokeRequest { request_id: Some(request_id.clone()), ..request };
        let (lambda, key) = (self.clone(), spec.key.clone());
        tokio::spawn(async move {
            let queued = tokio::time::Instant::now();
            let mut delay = lambda.async_retry_delay;
            for attempt in 0..=spec.async_retries {
                let Some(response) = lambda.invoke(&key, request.clone()).await else { return };
                let FunctionResult::Error { error_type, .. } = response.result else { return };
                let request_id = &response.request_id;
                if attempt == spec.async_retries {
                    tracing::warn!(target: "lambda", "{key} asynchronous invocation {request_id} failed with {error_type} on all {} attempts; the event is dropped", attempt + 1);
                    return;
                }
                if queued.elapsed() + delay > spec.max_event_age {
                    tracing::warn!(target: "lambda", "{key} asynchronous invocation {request_id} failed with {error_type}; the event would be older than its maximum age of {} s at its retry, so it is dropped", spec.max_event_age.as_secs());
                    return;
                }
                tracing::warn!(target: "lambda", "{key} asynchronous invocation {request_id} failed with {error_type}; retrying in {} s", delay.as_secs_f64());
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        });
        Some(request_id)
    }

    /// Hot reload: the functions that run `unit` start new processes from `launch`.
    pub fn reload_unit(&self, unit: &str, launch: &runtimes::Launch) -> Vec<String> {
        let mut reloaded = Vec::new();
        for pool in self.pools.read().unwrap().values().filter(|p| p.spec.unit == unit) {
            pool.reload(launch.clone());
            reloaded.push(pool.spec.key.clone());
        }
        reloaded
    }

    /// Makes `specs` the set of functions. A function whose settings changed gets a new pool, which starts
    /// from the build its old pool runs when the code unit is the same; the old pool's warm processes stop, and
    /// invocations already running on it finish there. Removed functions end the same way.
    pub fn apply(&self, specs: Vec<FunctionSpec>) -> FunctionChanges {
        let mut changes = FunctionChanges::default();
        let mut pools = self.pools.write().unwrap();
        let mut next = IndexMap::new();
        for mut spec in specs {
            let key = spec.key.clone();
            match pools.get(&key) {
                Some(pool) if pool.spec.same_settings(&spec) => {
                    next.insert(key, pool.clone());
                }
                Some(pool) => {
                    if pool.spec.unit == spec.unit {
                        (spec.launch, spec.unavailable) = pool.current_code();
                    }
                    changes.changed.push(key.clone());
                    next.insert(key, FunctionPool::new(spec, self.idle_timeout, self.journal.clone()));
                }
                None => {
                    changes.added.push(key.clone());
                    next.insert(key, FunctionPool::new(spec, self.idle_timeout, self.journal.clone()));
                }
            }
        }
        for (key, pool) in pools.iter() {
            let replaced = next.get(key).is_none_or(|kept| !Arc::ptr_eq(kept, pool));
            if replaced {
                pool.shutdown();
            }
            if !next.contains_key(key) {
                changes.removed.push(key.clone());
            }
        }
        *pools = next;
        changes
    }

    /// Stops every handler process.
    pub fn shutdown(&self) {
        for pool in self.pools.read().unwrap().values() {
            pool.shutdown();
        }
    }
}
