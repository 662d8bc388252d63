//! The fully resolved view of a service that `ftb-offline config` prints: every function with its resolved
//! environment (queue URLs, table names) and events, and every resource with its properties resolved.

use crate::aws::endpoints::LocalEndpoints;
use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Event, Service};
use crate::lambda::runtimes;
use serde_json::{json, Map, Value};
use std::path::Path;

/// `interpreters` are `--node` and `--python`, for the interpreter each Node.js or Python function runs with.
pub fn resolved_view(
    service: &Service,
    endpoints: &LocalEndpoints,
    interpreters: [Option<&Path>; 2],
) -> Result<Value, ConfigError> {
    let intrinsics = Intrinsics::new(service, endpoints);
    let mut functions = Map::new();
    // One probe of each interpreter per runtime, not per function.
    let mut probed = std::collections::HashMap::new();
    for function in service.functions.values() {
        let mut events = Vec::new();
        for (i, event) in function.events.iter().enumerate() {
            let mut value = serde_json::to_value(event).expect("events serialise");
            if let Event::Sqs(sqs) = event {
                let arn = crate::sqs::resources::queue_arn_of(&intrinsics, &function.key, i, sqs);
                value["arn"] = Value::String(arn.map_err(|e| service.locate(e))?);
            }
            events.push(value);
        }
        let found = match function.runtime.as_deref() {
            Some(runtime) => probed
                .entry(runtime.to_string())
                .or_insert_with(|| runtimes::interpreter_of(service, function, interpreters))
                .clone(),
            None => None,
        };
        let interpreter = match found {
            Some(Ok(found)) => json!(format!("{} {}", found.program.display(), found.version)),
            Some(Err(missing)) => json!(missing),
            None => Value::Null,
        };
        functions.insert(
            function.key.clone(),
            json!({
                "name": function.name,
                "runtime": function.runtime,
                "handler": function.handler,
                "binary": function.binary_name(),
                "interpreter": interpreter,
                "timeout": function.timeout_seconds,
                "memorySize": function.memory_size_mb,
                "reservedConcurrency": function.reserved_concurrency,
                "environment": intrinsics.environment(function)?,
                "events": events,
                "url": function.url.as_ref().map(|url| json!({
                    "url": endpoints.function_url(&function.key),
                    "authorizer": if url.aws_iam { "aws_iam (not checked locally)" } else { "none" },
                    "invokeMode": if url.streaming { "RESPONSE_STREAM" } else { "BUFFERED" },
                    "cors": url.cors,
                })),
            }),
        );
    }
    let mut resources = Map::new();
    for (logical, resource) in &service.resources.resources {
        let path = format!("resources.Resources.{logical}.Properties");
        let properties = intrinsics.resolve(&resource.properties, &path).map_err(|e| service.locate(e))?;
        resources.insert(logical.clone(), json!({ "Type": resource.kind, "Properties": properties }));
    }
    Ok(json!({
        "service": service.service,
        "stage": service.stage,
        "region": service.region,
        "endpoints": endpoints.described(),
        "functions": functions,
        "resources": resources,
    }))
}

/// Renders JSON as block-style YAML.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    emitter.dump(&to_yaml_value(value)).expect("writing to a String cannot fail");
    out.trim_start_matches("---\n").to_string() + "\n"
}

fn to_yaml_value(value: &Value) -> yaml_rust2::Yaml {
    use yaml_rust2::Yaml;
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => n.as_i64().map(Yaml::Integer).unwrap_or_else(|| Yaml::Real(n.to_string())),
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml_value).collect()),
        Value::Object(map) => {
            Yaml::Hash(map.iter().map(|(k, v)| (Yaml::String(k.clone()), to_yaml_value(v))).collect())
        }
    }
}
