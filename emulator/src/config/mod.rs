//! `serverless.yml` → [`Service`]: YAML with locations and short tags ([`yaml`]), Serverless variables
//! ([`variables`]), the typed model ([`model`], [`events`], [`triggers`]), and CloudFormation intrinsics against the local
//! endpoints ([`intrinsics`]). Every error carries the file, line and column, the key path and what was expected.

pub mod api_keys;
pub mod authorizers;
pub mod error;
pub mod events;
pub mod fields;
pub mod http_api_authorizers;
pub mod intrinsics;
pub mod model;
pub mod references;
pub mod settings;
pub mod triggers;
pub mod variables;
pub mod yaml;

pub use error::{ConfigError, Location};
pub use model::*;
pub use settings::*;

use crate::guard::{self, GuardSettings};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use variables::{join_path, kind_of};
use yaml::{Node, NodeValue};

/// Reads an environment variable; replaceable so tests never depend on the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What the command line adds to a `serverless.yml`.
#[derive(Clone)]
pub struct LoadOptions {
    pub stage: Option<String>,
    pub region: Option<String>,
    /// `--param key=value`, read by `${param:key}` before the file's `params`.
    pub params: BTreeMap<String, String>,
    /// Any other `${opt:name}` values.
    pub options: BTreeMap<String, String>,
    pub env: EnvLookup,
    /// `${sls:instanceId}`.
    pub instance_id: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            stage: None,
            region: None,
            params: BTreeMap::new(),
            options: BTreeMap::new(),
            env: Arc::new(|name| std::env::var(name).ok()),
            instance_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        }
    }
}

impl LoadOptions {
    /// `${opt:name}`.
    pub fn option(&self, name: &str) -> Option<String> {
        match name {
            "stage" => self.stage.clone(),
            "region" => self.region.clone(),
            other => self.options.get(other).cloned(),
        }
    }
}

/// Loads and validates a service definition.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Service, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError::file(path, format!("cannot read the service file: {err}; pass its path with --config"))
    })?;
    load_str(&text, path, options)
}

/// Loads a service definition from text; `path` names it in errors and anchors relative paths.
pub fn load_str(text: &str, path: &Path, options: &LoadOptions) -> Result<Service, ConfigError> {
    let root = yaml::parse(text, path)?;
    let locations = Locations::index(&root);
    // Absolute, so every process started from it (handlers, builds) sees the same folder whatever its own cwd.
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let service_dir = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    let build = || -> Result<Service, ConfigError> {
        let (stage, region) = variables::stage_and_region(&root, options, &service_dir)?;
        let resolved = variables::resolve(&root, options, &service_dir)?;
        build_service(resolved, stage, region, path, &service_dir)
    };
    let mut service = build().map_err(|err| locations.locate(err))?;
    service.locations = Arc::new(locations);
    Ok(service)
}

/// Where each key path was written, so errors found on plain values can still name a line.
#[derive(Debug, Default)]
pub struct Locations(HashMap<String, Location>);

impl Locations {
    pub fn index(root: &Node) -> Self {
        let mut map = HashMap::new();
        fn visit(node: &Node, path: String, map: &mut HashMap<String, Location>) {
            match &node.value {
                NodeValue::Map(entries) => {
                    for (key, child) in entries {
                        visit(child, join_path(&path, key), map);
                    }
                }
                NodeValue::Seq(items) => {
                    for (i, child) in items.iter().enumerate() {
                        visit(child, join_path(&path, &i.to_string()), map);
                    }
                }
                _ => {}
            }
            map.insert(path, node.location.clone());
        }
        visit(root, String::new(), &mut map);
        Self(map)
    }

    /// Whether `path` was written in the file.
    pub fn has(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    /// Gives `err` the location of its key path, or of the nearest key above it that was written.
    pub fn locate(&self, mut err: ConfigError) -> ConfigError {
        if err.location.is_some() {
            return err;
        }
        let mut path = err.key_path.as_str();
        loop {
            if let Some(location) = self.0.get(path) {
                err.location = Some(location.clone());
                return err;
            }
            match path.rfind('.') {
                Some(i) => path = &path[..i],
                None if !path.is_empty() => path = "",
                None => return err,
            }
        }
    }
}

fn build_service(
    resolved: Value,
    stage: String,
    region: String,
    path: &Path,
    service_dir: &Path,
) -> Result<Service, ConfigError> {
    let Value::Object(mut top) = resolved else {
        return Err(ConfigError::at_path("", "expected a mapping with `service`, `provider` and `functions`"));
    };
    let service = match top.remove("service") {
        Some(Value::String(name)) => name,
        Some(Value::Object(map)) => match map.get("name") {
            Some(Value::String(name)) => name.clone(),
            _ => return Err(ConfigError::at_path("service.name", "expected the service name as a string")),
        },
        Some(other) => {
            return Err(ConfigError::at_path(
                "service",
                format!("expected the service name as a string, found {}", kind_of(&other)),
            ))
        }
        None => {
            return Err(ConfigError::at_path(
                "",
                "missing `service`: expected `service: <name>` at the top of the file",
            ))
        }
    };
    let provider: Provider = match top.remove("provider") {
        Some(value) => typed(value, "provider")?,
        None => {
            return Err(ConfigError::at_path("", "missing `provider`: expected `provider:` with at least `name: aws`"))
        }
    };
    if provider.name != "aws" {
        return Err(ConfigError::at_path("provider.name", format!("expected `aws`, found `{}`", provider.name)));
    }
    let custom = top.remove("custom").unwrap_or(Value::Null);
    let offline: OfflineSettings = match custom.get("serverless-offline") {
        Some(value) => typed(value.clone(), "custom.serverless-offline")?,
        None => OfflineSettings::default(),
    };
    let s3 = S3Settings {
        port: match custom.get("s3").and_then(|s3| s3.get("port")) {
            Some(port) => typed(port.clone(), "custom.s3.port")?,
            None => S3Settings::default().port,
        },
    };
    let dynamodb: DynamoDbLocalSettings = match custom.get("dynamodb").and_then(|d| d.get("start")) {
        Some(value) => typed(value.clone(), "custom.dynamodb.start")?,
        None => DynamoDbLocalSettings::default(),
    };
    let guard = guard_settings(custom.get("ftb-offline"))?;
    let auth = auth_settings(&provider, custom.get("ftb-offline"), service_dir)?;
    let functions = build_functions(top.remove("functions"), &service, &stage, &provider)?;
    let resources = build_resources(top.remove("resources"))?;
    let layers = match top.remove("layers") {
        None | Some(Value::Null) => IndexMap::new(),
        Some(value) => typed(value, "layers")?,
    };
    Ok(Service {
        service,
        stage,
        region,
        provider,
        functions,
        layers,
        resources,
        offline,
        s3,
        dynamodb,
        guard,
        auth,
        custom,
        config_path: path.to_path_buf(),
        service_dir: service_dir.to_path_buf(),
        locations: Arc::new(Locations(HashMap::new())),
    })
}

/// `custom.ftb-offline`: the origins and hosts the guard lets through, each checked for its form.
fn guard_settings(value: Option<&Value>) -> Result<GuardSettings, ConfigError> {
    let mut settings: GuardSettings = match value {
        None | Some(Value::Null) => return Ok(GuardSettings::default()),
        Some(Value::Object(map)) => {
            let mut guard_keys = map.clone();
            guard_keys.remove("jwks");
            typed(Value::Object(guard_keys), "custom.ftb-offline")?
        }
        Some(value) => typed(value.clone(), "custom.ftb-offline")?,
    };
    check_each(&mut settings.allow_origins, "custom.ftb-offline.allowOrigins", guard::allowed_origin)?;
    check_each(&mut settings.allow_hosts, "custom.ftb-offline.allowHosts", guard::allowed_host)?;
    Ok(settings)
}

/// The HTTP API's authorizers, the REST API's keys and `custom.ftb-offline.jwks`.
fn auth_settings(provider: &Provider, custom: Option<&Value>, service_dir: &Path) -> Result<AuthSettings, ConfigError> {
    let http_api_authorizers = http_api_authorizers::parse_http_api_authorizers(
        provider.http_api.as_ref().and_then(|h| h.authorizers.as_ref()),
    )?;
    let api_gateway = provider.api_gateway.as_ref();
    let api_keys = api_keys::parse_api_keys(api_gateway.and_then(|a| a.api_keys.as_ref()))?;
    let api_key_from_authorizer = match api_gateway.and_then(|a| a.api_key_source_type.as_deref()) {
        None => false,
        Some(source) if source.eq_ignore_ascii_case("HEADER") => false,
        Some(source) if source.eq_ignore_ascii_case("AUTHORIZER") => true,
        Some(other) => {
            return Err(ConfigError::at_path(
                "provider.apiGateway.apiKeySourceType",
                format!("expected HEADER or AUTHORIZER, found `{other}`"),
            ))
        }
    };
    let jwks_files = match custom.and_then(|c| c.get("jwks")) {
        None | Some(Value::Null) => IndexMap::new(),
        Some(Value::String(file)) => IndexMap::from([(String::new(), service_dir.join(file))]),
        Some(Value::Object(per_issuer)) => per_issuer
            .iter()
            .map(|(issuer, file)| match file {
                Value::String(file) => Ok((issuer.clone(), service_dir.join(file))),
                other => Err(ConfigError::at_path(
                    format!("custom.ftb-offline.jwks.{issuer}"),
                    format!("expected the path of a JWKS file, found {}", kind_of(other)),
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ConfigError::at_path(
                "custom.ftb-offline.jwks",
                format!("expected the path of a JWKS file, or issuer URL → path, found {}", kind_of(other)),
            ))
        }
    };
    Ok(AuthSettings { http_api_authorizers, api_keys, api_key_from_authorizer, jwks_files })
}

/// Replaces each entry of the list at `path` by its `parse`d form, or names the first that has none.
fn check_each(
    entries: &mut [String],
    path: &str,
    parse: fn(&str) -> Result<String, String>,
) -> Result<(), ConfigError> {
    for (index, entry) in entries.iter_mut().enumerate() {
        *entry = parse(entry).map_err(|message| ConfigError::at_path(format!("{path}.{index}"), message))?;
    }
    Ok(())
}

fn build_functions(
    value: Option<Value>,
    service: &str,
    stage: &str,
    provider: &Provider,
) -> Result<IndexMap<String, Function>, ConfigError> {
    let entries = match value {
        None | Some(Value::Null) => return Ok(IndexMap::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(ConfigError::at_path(
                "functions",
                format!("expected a mapping of function names to definitions, found {}", kind_of(&other)),
            ))
        }
    };
    let mut functions = IndexMap::new();
    for (key, definition) in entries {
        let path = format!("functions.{key}");
        let function = build_function(&key, definition, &path, service, stage, provider)?;
        functions.insert(key, function);
    }
    Ok(functions)
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFunction {
    name: Option<String>,
    handler: Option<String>,
    runtime: Option<String>,
    #[serde(default, deserialize_with = "model::lenient_number")]
    timeout: Option<f64>,
    #[serde(default, deserialize_with = "model::lenient_number")]
    memory_size: Option<u32>,
    #[serde(default, deserialize_with = "model::lenient_number")]
    reserved_concurrency: Option<u32>,
    #[serde(default, deserialize_with = "model::lenient_number")]
    maximum_retry_attempts: Option<u32>,
    #[serde(default, deserialize_with = "model::lenient_number")]
    maximum_event_age: Option<u32>,
    #[serde(default)]
    environment: IndexMap<String, Value>,
    #[serde(default)]
    events: Vec<Value>,
    package: Option<RawPackage>,
    #[serde(default)]
    layers: Vec<Value>,
    url: Option<Value>,
}

#[derive(serde::Deserialize, Default)]
struct RawPackage {
    artifact: Option<String>,
}

fn build_function(
    key: &str,
    definition: Value,
    path: &str,
    service: &str,
    stage: &str,
    provider: &Provider,
) -> Result<Function, ConfigError> {
    if !definition.is_object() {
        return Err(ConfigError::at_path(
            path,
            format!("expected a function definition (handler, events, …), found {}", kind_of(&definition)),
        ));
    }
    let raw: RawFunction = typed(definition, path)?;
    let mut events = Vec::with_capacity(raw.events.len());
    for (i, event) in raw.events.iter().enumerate() {
        events.push(events::parse_event(event, &format!("{path}.events.{i}"))?);
    }
    let mut environment = provider.environment.clone();
    environment.extend(raw.environment);
    use crate::aws::lambda::{ASYNC_MAX_EVENT_AGE_SECONDS, ASYNC_MIN_EVENT_AGE_SECONDS, ASYNC_RETRY_ATTEMPTS};
    let retries =
        in_range(raw.maximum_retry_attempts, 0, ASYNC_RETRY_ATTEMPTS, &format!("{path}.maximumRetryAttempts"))?;
    let event_age = in_range(
        raw.maximum_event_age,
        ASYNC_MIN_EVENT_AGE_SECONDS,
        ASYNC_MAX_EVENT_AGE_SECONDS,
        &format!("{path}.maximumEventAge"),
    )?;
    Ok(Function {
        key: key.to_string(),
        name: raw.name.unwrap_or_else(|| format!("{service}-{stage}-{key}")),
        handler: raw.handler,
        runtime: raw.runtime.or_else(|| provider.runtime.clone()),
        timeout_seconds: raw.timeout.or(provider.timeout).unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        memory_size_mb: raw.memory_size.or(provider.memory_size).unwrap_or(DEFAULT_MEMORY_MB),
        reserved_concurrency: raw.reserved_concurrency,
        maximum_retry_attempts: retries.unwrap_or(ASYNC_RETRY_ATTEMPTS),
        maximum_event_age_seconds: event_age.unwrap_or(ASYNC_MAX_EVENT_AGE_SECONDS),
        environment,
        events,
        artifact: raw.package.and_then(|p| p.artifact),
        layers: raw.layers,
        url: match &raw.url {
            Some(url) => events::parse_function_url(url, &format!("{path}.url"))?,
            None => None,
        },
    })
}

/// A number that must lie in `min..=max`, as Serverless's schema checks it.
fn in_range(value: Option<u32>, min: u32, max: u32, path: &str) -> Result<Option<u32>, ConfigError> {
    match value {
        Some(n) if !(min..=max).contains(&n) => {
            Err(ConfigError::at_path(path, format!("expected a number from {min} to {max}, found {n}")))
        }
        _ => Ok(value),
    }
}

/// `resources:` as an object, or Serverless's list form whose items are merged.
fn build_resources(value: Option<Value>) -> Result<Resources, ConfigError> {
    let parts = match value {
        None | Some(Value::Null) => return Ok(Resources::default()),
        Some(Value::Array(items)) => {
            items.into_iter().enumerate().map(|(i, v)| (format!("resources.{i}"), v)).collect()
        }
        Some(value) => vec![("resources".to_string(), value)],
    };
    let mut resources = Resources::default();
    for (path, part) in parts {
        let Value::Object(mut part) = part else {
            return Err(ConfigError::at_path(
                &path,
                format!("expected a mapping with `Resources`, found {}", kind_of(&part)),
            ));
        };
        for (name, definition) in section(&mut part, "Resources", &path)? {
            let resource: Resource = typed(definition, &format!("{path}.Resources.{name}"))?;
            resources.resources.insert(name, resource);
        }
        resources.conditions.extend(section(&mut part, "Conditions", &path)?);
        resources.outputs.extend(section(&mut part, "Outputs", &path)?);
    }
    Ok(resources)
}

fn section(part: &mut Map<String, Value>, name: &str, path: &str) -> Result<Map<String, Value>, ConfigError> {
    match part.remove(name) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(ConfigError::at_path(
            format!("{path}.{name}"),
            format!("expected a mapping, found {}", kind_of(&other)),
        )),
    }
}

/// Deserialises `value` into `T`, naming the exact key and the expected type on failure.
pub(crate) fn typed<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = err.path().to_string();
        let full = if inner == "." || inner.is_empty() { path.to_string() } else { join_path(path, &inner) };
        ConfigError::at_path(full, err.inner().to_string())
    })
}

/// The `names` a resource's properties set, as the text an AWS API takes for them: strings as they are,
/// anything else (numbers, booleans, JSON policies) as its JSON text. Unset and null properties are left out.
pub fn properties_as_attributes<'a>(
    properties: &Value,
    names: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, String> {
    names
        .into_iter()
        .filter_map(|name| match properties.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some((name.to_string(), variables::text_of(value))),
        })
        .collect()
}

/// `Tags: [{Key, Value}]`, as CloudFormation lists them.
pub fn resource_tags(properties: &Value, path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(tags) = properties.get("Tags").filter(|t| !t.is_null()) else { return Ok(BTreeMap::new()) };
    let expected = || ConfigError::at_path(format!("{path}.Tags"), "expected a list of { Key, Value }");
    tags.as_array()
        .ok_or_else(expected)?
        .iter()
        .map(|tag| {
            let text = |field: &str| match tag.get(field) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::Bool(b)) => Some(b.to_string()),
                _ => None,
            };
            text("Key").zip(text("Value")).ok_or_else(expected)
        })
        .collect()
}
