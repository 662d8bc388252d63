//! Function events in their Serverless v3 forms (`http: POST /tasks`, `sqs: arn`, the object forms) → typed
//! [`Event`]s, with CORS settings. Errors name the key path; the loader adds file and line.

use super::authorizers;
use super::error::ConfigError;
use super::fields::{is_intrinsic, required_str, string_list};
use super::model::{
    Cors, Event, FunctionUrl, HttpApiEvent, HttpEvent, SqsEvent, WebsocketEvent, DEFAULT_FUNCTION_URL_CORS_HEADERS,
    DEFAULT_REST_CORS_HEADERS,
};
use super::triggers;
use super::variables::kind_of;
use serde_json::Value;

/// Event kinds Serverless knows that ftb-offline does not emulate yet: kept and reported, never dropped.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "alb",
    "alexaSkill",
    "alexaSmartHome",
    "iot",
    "iotFleetProvisioning",
    "cloudwatchEvent",
    "cloudwatchLog",
    "eventBridge",
    "cognitoUserPool",
    "msk",
    "kafka",
    "activemq",
    "rabbitmq",
    "cloudFront",
];

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];

/// Parses `functions.<key>.events[index]`.
pub fn parse_event(value: &Value, path: &str) -> Result<Event, ConfigError> {
    let Value::Object(map) = value else {
        return Err(ConfigError::at_path(
            path,
            format!("expected an event such as `http: GET /tasks`, found {}", kind_of(value)),
        ));
    };
    let Some((kind, definition)) = map.iter().next().filter(|_| map.len() == 1) else {
        return Err(ConfigError::at_path(
            path,
            "expected exactly one event type per list item (http, httpApi, websocket, sqs, …)",
        ));
    };
    let path = format!("{path}.{kind}");
    match kind.as_str() {
        "http" => parse_http(definition, &path).map(Event::Http),
        "httpApi" => parse_http_api(definition, &path).map(Event::HttpApi),
        "websocket" => parse_websocket(definition, &path).map(Event::Websocket),
        "sqs" => parse_sqs(definition, &path).map(Event::Sqs),
        "schedule" => triggers::parse_schedule(definition, &path).map(Event::Schedule),
        "sns" => triggers::parse_sns(definition, &path).map(Event::Sns),
        "s3" => triggers::parse_s3(definition, &path).map(Event::S3),
        "stream" => match triggers::parse_stream(definition, &path)? {
            Some(stream) => Ok(Event::Stream(stream)),
            None => Ok(Event::Unsupported { kind: "stream (kinesis)".to_string(), definition: definition.clone() }),
        },
        other if KNOWN_UNSUPPORTED.contains(&other) => {
            Ok(Event::Unsupported { kind: other.to_string(), definition: definition.clone() })
        }
        other => Err(ConfigError::at_path(
            &path,
            format!("unknown event type `{other}`; expected http, httpApi, websocket, sqs or another Serverless event"),
        )),
    }
}

fn parse_http(value: &Value, path: &str) -> Result<HttpEvent, ConfigError> {
    let (mut authorizer, mut private) = (None, false);
    let (method, route_path, cors) = match value {
        Value::String(text) => {
            let (method, route) = split_route(text, path)?;
            (method, route, None)
        }
        Value::Object(map) => {
            let method = required_str(map.get("method"), &format!("{path}.method"))?;
            let route = required_str(map.get("path"), &format!("{path}.path"))?;
            let cors = map.get("cors").map(|c| parse_rest_cors(c, &format!("{path}.cors"))).transpose()?.flatten();
            authorizer = map
                .get("authorizer")
                .filter(|a| !a.is_null())
                .map(|a| authorizers::parse_rest(a, &format!("{path}.authorizer")))
                .transpose()?;
            // `"true"` too: Serverless variables give strings.
            private = match map.get("private") {
                Some(Value::Bool(private)) => *private,
                Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
                _ => false,
            };
            (method.to_string(), route.to_string(), cors)
        }
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected `METHOD /path` or an object with method and path, found {}", kind_of(other)),
            ))
        }
    };
    let method = http_method(&method, path)?;
    let mut cors = cors;
    if let Some(cors) = cors.as_mut() {
        if cors.methods.is_empty() {
            cors.methods = vec!["OPTIONS".to_string(), method.clone()];
        }
    }
    Ok(HttpEvent { method, path: normalize_path(&route_path), cors, authorizer, private })
}

fn parse_http_api(value: &Value, path: &str) -> Result<HttpApiEvent, ConfigError> {
    let mut authorizer = None;
    let (method, route) = match value {
        Value::String(text) if text.trim() == "*" => ("*".to_string(), "*".to_string()),
        Value::String(text) => split_route(text, path)?,
        Value::Object(map) => {
            let method = map.get("method").and_then(Value::as_str).unwrap_or("*");
            let route = required_str(map.get("path"), &format!("{path}.path"))?;
            authorizer = map
                .get("authorizer")
                .filter(|a| !a.is_null())
                .map(|a| super::http_api_authorizers::parse_http_api_route(a, &format!("{path}.authorizer")))
                .transpose()?;
            (method.to_string(), route.to_string())
        }
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected `METHOD /path`, `*` or an object, found {}", kind_of(other)),
            ))
        }
    };
    let method = if method == "*" { method } else { http_method(&method, path)? };
    let route = if route == "*" { route } else { normalize_path(&route) };
    Ok(HttpApiEvent { method, path: route, authorizer })
}

fn parse_websocket(value: &Value, path: &str) -> Result<WebsocketEvent, ConfigError> {
    match value {
        Value::String(route) => {
            Ok(WebsocketEvent { route: route.clone(), route_response_selection_expression: None, authorizer: None })
        }
        Value::Object(map) => {
            let route = required_str(map.get("route"), &format!("{path}.route"))?.to_string();
            let authorizer = match map.get("authorizer").filter(|a| !a.is_null()) {
                None => None,
                // API Gateway runs WebSocket authorizers on `$connect` only.
                Some(_) if route != "$connect" => {
                    return Err(ConfigError::at_path(
                        format!("{path}.authorizer"),
                        format!("an authorizer belongs on the `$connect` route, not on `{route}`"),
                    ))
                }
                Some(authorizer) => Some(authorizers::parse_websocket(authorizer, &format!("{path}.authorizer"))?),
            };
            Ok(WebsocketEvent {
                route,
                route_response_selection_expression: map
                    .get("routeResponseSelectionExpression")
                    .and_then(Value::as_str)
                    .map(String::from),
                authorizer,
            })
        }
        other => Err(ConfigError::at_path(
            path,
            format!("expected a route key such as `$connect` or an object with `route`, found {}", kind_of(other)),
        )),
    }
}

fn parse_sqs(value: &Value, path: &str) -> Result<SqsEvent, ConfigError> {
    let (arn, map) = match value {
        Value::Object(map) if !is_intrinsic(map) => {
            let arn = map.get("arn").cloned().ok_or_else(|| {
                ConfigError::at_path(
                    format!("{path}.arn"),
                    "expected the queue ARN (for example `!GetAtt TasksQueue.Arn`)",
                )
            })?;
            (arn, Some(map))
        }
        Value::String(_) | Value::Object(_) => (value.clone(), None),
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected a queue ARN or an object with `arn`, found {}", kind_of(other)),
            ))
        }
    };
    let number = |key: &str, default: u32| -> Result<u32, ConfigError> {
        match map.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_u64().map(|n| n as u32).ok_or_else(|| {
                ConfigError::at_path(format!("{path}.{key}"), format!("expected a whole number, found {}", kind_of(v)))
            }),
        }
    };
    let response_type = map.and_then(|m| m.get("functionResponseType")).and_then(Value::as_str);
    if let Some(other) = response_type.filter(|t| *t != "ReportBatchItemFailures") {
        return Err(ConfigError::at_path(
            format!("{path}.functionResponseType"),
            format!("expected `ReportBatchItemFailures`, found `{other}`"),
        ));
    }
    Ok(SqsEvent {
        arn,
        batch_size: number("batchSize", 10)?,
        maximum_batching_window_seconds: number("maximumBatchingWindow", 0)?,
        report_batch_item_failures: response_type.is_some(),
        enabled: map.and_then(|m| m.get("enabled")).and_then(Value::as_bool).unwrap_or(true),
        maximum_concurrency: map.and_then(|m| m.get("maximumConcurrency")).and_then(Value::as_u64).map(|n| n as u32),
    })
}

/// `cors: true` or the object form on an `http` event. `false` means no CORS.
fn parse_rest_cors(value: &Value, path: &str) -> Result<Option<Cors>, ConfigError> {
    match value {
        Value::Bool(false) | Value::Null => Ok(None),
        Value::Bool(true) => Ok(Some(Cors {
            origins: vec!["*".to_string()],
            headers: DEFAULT_REST_CORS_HEADERS.iter().map(|h| h.to_string()).collect(),
            methods: Vec::new(),
            allow_credentials: false,
            exposed_headers: Vec::new(),
            max_age: None,
            cache_control: None,
        })),
        Value::Object(map) => {
            let mut origins = string_list(map.get("origins"), &format!("{path}.origins"))?;
            if let Some(origin) = map.get("origin") {
                origins.extend(string_list(Some(origin), &format!("{path}.origin"))?);
            }
            if origins.is_empty() {
                origins.push("*".to_string());
            }
            let headers = match map.get("headers") {
                None => DEFAULT_REST_CORS_HEADERS.iter().map(|h| h.to_string()).collect(),
                some => string_list(some, &format!("{path}.headers"))?,
            };
            Ok(Some(Cors {
                origins,
                headers,
                methods: string_list(map.get("methods"), &format!("{path}.methods"))?,
                allow_credentials: map.get("allowCredentials").and_then(Value::as_bool).unwrap_or(false),
                exposed_headers: string_list(
                    map.get("exposedResponseHeaders"),
                    &format!("{path}.exposedResponseHeaders"),
                )?,
                max_age: map.get("maxAge").and_then(Value::as_u64),
                cache_control: map.get("cacheControl").and_then(Value::as_str).map(String::from),
            }))
        }
        other => Err(ConfigError::at_path(
            path,
            format!(
                "expected true, false or an object (origin, headers, allowCredentials, maxAge, cacheControl), found {}",
                kind_of(other)
            ),
        )),
    }
}

impl Cors {
    /// A function URL's `cors`, as Serverless v3 compiles it (`compileFunctionUrl`): `true` or an object whose
    /// missing origins, headers and methods take the defaults (every origin, [`DEFAULT_FUNCTION_URL_CORS_HEADERS`],
    /// every method); credentials, exposed headers and max age only when given.
    pub fn from_function_url(value: &Value, path: &str) -> Result<Option<Cors>, ConfigError> {
        let map = match value {
            Value::Bool(false) | Value::Null => return Ok(None),
            Value::Bool(true) => None,
            Value::Object(map) => Some(map),
            other => {
                return Err(ConfigError::at_path(
                    path,
                    format!("expected true, false or an object (allowedOrigins, allowedHeaders, allowedMethods, allowCredentials, exposedResponseHeaders, maxAge), found {}", kind_of(other)),
                ))
            }
        };
        let list = |key: &str, default: &[&str]| -> Result<Vec<String>, ConfigError> {
            match map.and_then(|m| m.get(key)) {
                None => Ok(default.iter().map(|s| s.to_string()).collect()),
                some => string_list(some, &format!("{path}.{key}")),
            }
        };
        Ok(Some(Cors {
            origins: list("allowedOrigins", &["*"])?,
            headers: list("allowedHeaders", DEFAULT_FUNCTION_URL_CORS_HEADERS)?,
            methods: list("allowedMethods", &["*"])?,
            allow_credentials: map.and_then(|m| m.get("allowCredentials")).and_then(Value::as_bool).unwrap_or(false),
            exposed_headers: list("exposedResponseHeaders", &[])?,
            max_age: map.and_then(|m| m.get("maxAge")).and_then(Value::as_u64),
            cache_control: None,
        }))
    }

    /// `provider.httpApi.cors`: `true` allows every origin with Serverless's default headers.
    pub fn from_http_api(value: &Value, path: &str) -> Result<Option<Cors>, ConfigError> {
        let mut cors = match value {
            Value::Object(map) => {
                let mut cors = parse_rest_cors(value, path)?.expect("object form is always some");
                cors.origins = string_list(map.get("allowedOrigins"), &format!("{path}.allowedOrigins"))?;
                if cors.origins.is_empty() {
                    cors.origins.push("*".to_string());
                }
                if let Some(headers) = map.get("allowedHeaders") {
                    cors.headers = string_list(Some(headers), &format!("{path}.allowedHeaders"))?;
                }
                cors.methods = string_list(map.get("allowedMethods"), &format!("{path}.allowedMethods"))?;
                cors.exposed_headers =
                    string_list(map.get("exposedResponseHeaders"), &format!("{path}.exposedResponseHeaders"))?;
                cors
            }
            other => match parse_rest_cors(other, path)? {
                Some(cors) => cors,
                None => return Ok(None),
            },
        };
        if cors.methods.is_empty() {
            cors.methods = ["OPTIONS", "GET", "POST", "PUT", "PATCH", "DELETE"].iter().map(|m| m.to_string()).collect();
        }
        Ok(Some(cors))
    }
}

/// A function's `url:`: `true`, or `{authorizer: aws_iam, cors: true | {allowedOrigins, …}, invokeMode}`.
/// `false` (or nothing) means no URL.
pub fn parse_function_url(value: &Value, path: &str) -> Result<Option<FunctionUrl>, ConfigError> {
    let map = match value {
        Value::Bool(false) | Value::Null => return Ok(None),
        Value::Bool(true) => return Ok(Some(FunctionUrl { cors: None, aws_iam: false, streaming: false })),
        Value::Object(map) => map,
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected true or an object (authorizer, cors, invokeMode), found {}", kind_of(other)),
            ))
        }
    };
    let aws_iam = match map.get("authorizer") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "aws_iam" => true,
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.authorizer"),
                format!("expected `aws_iam` (the only function URL authorizer), found {other}"),
            ))
        }
    };
    let streaming = match map.get("invokeMode").and_then(Value::as_str) {
        None | Some("BUFFERED") => false,
        Some("RESPONSE_STREAM") => true,
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.invokeMode"),
                format!("expected BUFFERED or RESPONSE_STREAM, found `{other}`"),
            ))
        }
    };
    let cors = match map.get("cors") {
        None => None,
        Some(cors) => Cors::from_function_url(cors, &format!("{path}.cors"))?,
    };
    Ok(Some(FunctionUrl { cors, aws_iam, streaming }))
}

fn split_route(text: &str, path: &str) -> Result<(String, String), ConfigError> {
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(route), None) => Ok((method.to_string(), route.to_string())),
        _ => Err(ConfigError::at_path(
            path,
            format!("expected `METHOD /path` (for example `GET /tasks`), found \"{text}\""),
        )),
    }
}

fn http_method(method: &str, path: &str) -> Result<String, ConfigError> {
    let upper = method.to_ascii_uppercase();
    if upper == "*" {
        return Ok("ANY".to_string());
    }
    if HTTP_METHODS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(ConfigError::at_path(
            path,
            format!("unknown HTTP method `{method}`; expected one of {}", HTTP_METHODS.join(", ")),
        ))
    }
}

fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}
