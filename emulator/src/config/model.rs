//! The typed model of a Serverless Framework v3 service, after variables are resolved.
//!
//! CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, …) are kept as JSON values here (environment values, resource
//! properties, SQS ARNs): they resolve only once the emulator knows its bound addresses (see `intrinsics`).

use super::api_keys::ApiKey;
use super::authorizers::Authorizer;
use super::http_api_authorizers::{HttpApiAuthorizer, HttpApiRouteAuthorizer};
use super::settings::{DynamoDbLocalSettings, OfflineSettings, S3Settings};
use super::{ConfigError, Locations};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Serverless v3 defaults (docs: "serverless.yml reference", provider.timeout / provider.memorySize).
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 6.0;
pub const DEFAULT_MEMORY_MB: u32 = 1024;
/// API Gateway WebSocket default route selection expression.
pub const DEFAULT_ROUTE_SELECTION_EXPRESSION: &str = "$request.body.action";

/// A whole service, ready for the emulator.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub service: String,
    pub stage: String,
    pub region: String,
    pub provider: Provider,
    pub functions: IndexMap<String, Function>,
    /// `layers:` defined in this file: name → the folder laid out as `/opt`.
    pub layers: IndexMap<String, Layer>,
    pub resources: Resources,
    pub offline: OfflineSettings,
    /// `custom.s3`: where the S3 API listens.
    pub s3: S3Settings,
    /// `custom.dynamodb.start`, for `start:with-db`.
    pub dynamodb: DynamoDbLocalSettings,
    /// `custom.ftb-offline`: `allowOrigins` and `allowHosts`, what the AWS APIs accept besides loopback.
    pub guard: crate::guard::GuardSettings,
    pub auth: AuthSettings,
    pub custom: Value,
    /// The `serverless.yml` this was read from, and its folder (relative paths start there).
    pub config_path: PathBuf,
    pub service_dir: PathBuf,
    /// Where each key was written, to locate errors found after loading (intrinsics, for one).
    #[serde(skip)]
    pub locations: Arc<Locations>,
}

/// `.ftb-offline/<stage>/` under `service_dir`: each stage keeps its own local state, as it has its own stack.
pub fn state_dir(service_dir: &Path, stage: &str) -> PathBuf {
    service_dir.join(".ftb-offline").join(stage)
}

impl Service {
    /// Adds the file, line and column of the error's key path.
    pub fn locate(&self, err: ConfigError) -> ConfigError {
        self.locations.locate(err)
    }

    /// Where ftb-offline keeps this stage's local state (durable queues, a DynamoDB Local run from its jar):
    /// `.ftb-offline/<stage>/` beside `serverless.yml`.
    pub fn state_dir(&self) -> PathBuf {
        state_dir(&self.service_dir, &self.stage)
    }

    /// CloudFormation's stack name for a Serverless service: `service-stage`.
    pub fn stack_name(&self) -> String {
        format!("{}-{}", self.service, self.stage)
    }

    /// Finds a function by its key, its deployed name, a Lambda ARN naming either, or its CloudFormation logical
    /// id (`SubmitTaskLambdaFunction`, what `!GetAtt SubmitTaskLambdaFunction.Arn` names).
    pub fn function(&self, name: &str) -> Option<&Function> {
        let short = arn_function_name(name).unwrap_or(name);
        let short = short.split(':').next().unwrap_or(short);
        self.functions
            .values()
            .find(|f| f.key == short || f.name == short)
            .or_else(|| self.function_by_logical_id(name))
    }

    /// The function whose CloudFormation resource is `logical` (see [`Function::normalized_name`]).
    pub fn function_by_logical_id(&self, logical: &str) -> Option<&Function> {
        let base = logical.strip_suffix("LambdaFunction")?;
        self.functions.values().find(|f| f.normalized_name() == base)
    }
}

/// `arn:aws:lambda:region:account:function:name[:qualifier]` or `account:function:name` → `name[:qualifier]`.
fn arn_function_name(name: &str) -> Option<&str> {
    name.find(":function:").map(|i| &name[i + ":function:".len()..])
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub name: String,
    pub runtime: Option<String>,
    pub stage: Option<String>,
    pub region: Option<String>,
    #[serde(default)]
    pub environment: IndexMap<String, Value>,
    #[serde(default, deserialize_with = "lenient_number")]
    pub timeout: Option<f64>,
    #[serde(default, deserialize_with = "lenient_number")]
    pub memory_size: Option<u32>,
    pub architecture: Option<String>,
    pub websockets_api_route_selection_expression: Option<String>,
    pub http_api: Option<ProviderHttpApi>,
    pub api_gateway: Option<ProviderApiGateway>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderApiGateway {
    /// REST API content types passed to functions base64-encoded.
    #[serde(default)]
    pub binary_media_types: Vec<String>,
    /// Parsed into [`AuthSettings::api_keys`].
    pub api_keys: Option<Value>,
    /// `HEADER` (the default) or `AUTHORIZER`.
    pub api_key_source_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderHttpApi {
    /// `true` or an object: parsed into [`Cors`] with [`Cors::from_http_api`].
    pub cors: Option<Value>,
    /// Parsed into [`AuthSettings::http_api_authorizers`].
    pub authorizers: Option<Value>,
}

/// One function, with provider defaults applied.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// The key under `functions:` (`submitTask`).
    pub key: String,
    /// The deployed name (`service-stage-key` unless `name:` is given).
    pub name: String,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub timeout_seconds: f64,
    pub memory_size_mb: u32,
    pub reserved_concurrency: Option<u32>,
    /// Retries of a failed asynchronous invocation (0–2, default 2).
    pub maximum_retry_attempts: u32,
    /// How long an asynchronous event may wait for its (next) attempt (60–21600 s, default 6 hours).
    pub maximum_event_age_seconds: u32,
    /// Provider environment overlaid with the function's own; values may hold intrinsics.
    pub environment: IndexMap<String, Value>,
    pub events: Vec<Event>,
    /// `package.artifact`: for Rust, `target/lambda/<binary>/bootstrap.zip` as cargo-lambda lays it out.
    pub artifact: Option<String>,
    /// `layers:` as written: `{Ref: <Name>LambdaLayer}` for a layer of this file, or an ARN.
    pub layers: Vec<Value>,
    /// `url:`: the function's URL, served on the HTTP port.
    pub url: Option<FunctionUrl>,
}

/// A function URL (`url: true`, or `url: {authorizer, cors, invokeMode}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUrl {
    /// CORS that Lambda itself answers for the URL (preflights, allow headers on responses).
    pub cors: Option<Cors>,
    /// `authorizer: aws_iam`: requests must be SigV4-signed on AWS; the signature is not checked locally.
    pub aws_iam: bool,
    /// `invokeMode: RESPONSE_STREAM`.
    pub streaming: bool,
}

impl Function {
    /// The stem of the names Serverless gives the function's CloudFormation resources: its key with the first
    /// letter upper-case, `-` and `_` spelt `Dash` and `Underscore` (`submitTask` → `SubmitTask`, whose function
    /// is `SubmitTaskLambdaFunction`).
    pub fn normalized_name(&self) -> String {
        let replaced = self.key.replace('-', "Dash").replace('_', "Underscore");
        let mut chars = replaced.chars();
        chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
    }

    /// The cargo binary that serves this function: the folder name in a cargo-lambda artifact path
    /// (`target/lambda/<binary>/bootstrap.zip`), else a handler that is not the generic `bootstrap`.
    pub fn binary_name(&self) -> Option<String> {
        if let Some(artifact) = &self.artifact {
            let parts: Vec<&str> = artifact.split('/').collect();
            if let Some(i) = parts.iter().position(|p| *p == "lambda") {
                if let Some(bin) = parts.get(i + 1).filter(|b| !b.is_empty() && !b.contains('.')) {
                    return Some(bin.to_string());
                }
            }
        }
        self.handler.clone().filter(|h| h != "bootstrap" && !h.contains('/') && !h.contains('.'))
    }
}

/// A layer defined in `serverless.yml` (`layers: {name: {path: …}}`, or `package.artifact` for a prebuilt zip).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Layer {
    /// The folder whose content Lambda extracts to `/opt`, relative to the service directory; `None` for a layer
    /// given only as a zip (`package.artifact`), which is not unpacked locally.
    pub path: Option<String>,
}

impl Layer {
    /// The logical id the framework gives the layer, which functions `Ref`: `my-deps` → `MyDashdepsLambdaLayer`.
    pub fn logical_id(name: &str) -> String {
        let mut chars = name.chars();
        let capitalised: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        format!("{}LambdaLayer", capitalised.replace('-', "Dash").replace('_', "Underscore"))
    }
}

/// An event that triggers a function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Event {
    /// REST API (API Gateway v1), payload format 1.0.
    Http(HttpEvent),
    /// HTTP API (API Gateway v2), payload format 2.0.
    HttpApi(HttpApiEvent),
    Websocket(WebsocketEvent),
    Sqs(SqsEvent),
    Schedule(ScheduleEvent),
    /// A DynamoDB stream (`stream` events of type dynamodb).
    Stream(StreamEvent),
    /// A subscription of the function to an SNS topic.
    Sns(SnsEvent),
    /// Notifications of a bucket's object changes.
    S3(S3Event),
    /// Kept so that `config` can show it and start-up can report it; not emulated.
    Unsupported {
        kind: String,
        definition: Value,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvent {
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// With a leading slash: `/tasks/{id}`.
    pub path: String,
    pub cors: Option<Cors>,
    pub authorizer: Option<Authorizer>,
    /// `private: true`: the request must carry one of the API keys in `x-api-key`.
    pub private: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpApiEvent {
    /// Upper-case method, or `*` for any method.
    pub method: String,
    /// With a leading slash, or `*` for the catch-all route.
    pub path: String,
    pub authorizer: Option<HttpApiRouteAuthorizer>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebsocketEvent {
    pub route: String,
    pub route_response_selection_expression: Option<String>,
    /// On `$connect` only: the Lambda authorizer the connection must pass.
    pub authorizer: Option<Authorizer>,
}

/// What guards the APIs besides each route's `authorizer`: the HTTP API's named authorizers, the REST API's keys,
/// and the JSON Web Key Sets of issuers whose keys cannot be fetched locally.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    /// `provider.httpApi.authorizers`.
    pub http_api_authorizers: IndexMap<String, HttpApiAuthorizer>,
    /// `provider.apiGateway.apiKeys`.
    pub api_keys: Vec<ApiKey>,
    /// `provider.apiGateway.apiKeySourceType: AUTHORIZER`: the key is the authorizer's `usageIdentifierKey`.
    pub api_key_from_authorizer: bool,
    /// `custom.ftb-offline.jwks`: a JWKS file for every issuer (`""` key), or one per issuer URL; relative to
    /// the service directory.
    pub jwks_files: IndexMap<String, PathBuf>,
}

/// A `stream` event of a DynamoDB table: an event source mapping on its stream, with Serverless v3's defaults.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamEvent {
    /// The stream ARN, intrinsics unresolved (`!GetAtt Table.StreamArn`).
    pub arn: Value,
    /// Serverless's default: 10.
    pub batch_size: u32,
    /// `maximumBatchingWindow`, 0 to 300 s (Lambda's range); 0, the default, sends each read at once.
    pub maximum_batching_window_seconds: u32,
    /// `TRIM_HORIZON` (Serverless's default) reads the stream from its start, `LATEST` from the mapping's start.
    pub from_latest: bool,
    pub enabled: bool,
    /// -1 (the default) retries a failed batch until it succeeds.
    pub maximum_retry_attempts: i64,
    pub report_batch_item_failures: bool,
    /// Split a failing batch in two and deliver each half (the splits are not retries).
    pub bisect_batch_on_function_error: bool,
    /// `filterPatterns`: records no pattern matches are skipped.
    pub filter_patterns: Vec<Value>,
}

/// An `s3` event: the function notified of changes to a bucket's objects, the bucket created unless `existing`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Event {
    pub bucket: String,
    /// `s3:ObjectCreated:*` (Serverless's default), `s3:ObjectRemoved:*`…
    pub event: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    /// `existing: true`: the bucket is not the service's (it is still made locally, so it can be used).
    pub existing: bool,
}

/// An `sns` event: the function subscribed to a topic, which Serverless creates when the event names it by
/// `topicName` (or by a plain name) and expects to exist when it gives an `arn`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnsEvent {
    /// The topic's ARN, intrinsics unresolved (`!Ref Topic`); `None` when the event names the topic.
    pub arn: Option<Value>,
    /// The topic's name: given, or the text after the ARN's last `:`.
    pub topic_name: Option<String>,
    pub display_name: Option<String>,
    /// `filterPolicy`, as a JSON object.
    pub filter_policy: Option<Value>,
    /// `MessageAttributes` (the default) or `MessageBody`.
    pub filter_policy_scope: Option<String>,
    /// `redrivePolicy`: `deadLetterTargetArn`, or `deadLetterTargetRef` (a queue's logical id).
    pub redrive_policy: Option<Value>,
}

/// A `schedule` event: one EventBridge rule (or Scheduler schedule) per expression. The expressions and paths are
/// checked by the schedule module's plan, where the located error is built.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleEvent {
    /// `rate(…)` or `cron(…)`, as written.
    pub expressions: Vec<String>,
    pub enabled: bool,
    pub input: Option<Value>,
    pub input_path: Option<String>,
    /// `{inputPathsMap, inputTemplate}`.
    pub input_transformer: Option<Value>,
    pub name: Option<String>,
    /// `method: scheduler` (EventBridge Scheduler) rather than a rule on the default event bus.
    pub scheduler: bool,
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsEvent {
    /// The queue ARN, often an intrinsic (`!GetAtt TasksQueue.Arn`).
    pub arn: Value,
    pub batch_size: u32,
    pub maximum_batching_window_seconds: u32,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
    pub maximum_concurrency: Option<u32>,
}

/// CORS as API Gateway configures it from `serverless.yml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    pub origins: Vec<String>,
    pub headers: Vec<String>,
    pub methods: Vec<String>,
    pub allow_credentials: bool,
    pub exposed_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub cache_control: Option<String>,
}

/// Serverless v3's headers for `cors: true` on `http` events (lib/plugins/aws/package/compile/events/api-gateway).
pub const DEFAULT_REST_CORS_HEADERS: &[&str] = &[
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "X-Amzn-Trace-Id",
];

/// Serverless v3's headers for a function URL's `cors: true` (`compileFunctionUrl`'s `defaultCors`).
pub const DEFAULT_FUNCTION_URL_CORS_HEADERS: &[&str] =
    &["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token", "X-Amzn-Trace-Id"];

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    pub resources: IndexMap<String, Resource>,
    pub conditions: IndexMap<String, Value>,
    pub outputs: IndexMap<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Properties", default)]
    pub properties: Value,
    #[serde(rename = "Condition", default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// A number, or a string holding one (`--param timeout=5` gives a string; CloudFormation takes both).
pub(crate) fn lenient_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + serde::de::DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid value \"{text}\", expected a number"))),
        other => serde_json::from_value(other.clone())
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid value {other}, expected a number"))),
    }
}
