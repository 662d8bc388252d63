//! Lambda events as API Gateway builds them from an HTTP request: the request as received, and payload format 1.0
//! (REST API proxy integration). Payload 2.0 (HTTP API, function URLs) is typed, in [`super::payload_v2`]. Pure
//! functions, checked against AWS's sample events in the tests.

use super::routes::Matched;
use crate::aws::ACCOUNT_ID;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// An HTTP request as the gateway received it.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub method: String,
    /// The path as requested, stage included for REST (`/dev/tasks`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names lower-case, in arrival order; repeated headers appear repeatedly.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub source_ip: String,
    pub protocol: String,
    pub request_id: String,
    pub time: chrono::DateTime<chrono::Utc>,
}

/// Fixed facts about the API the request came to.
pub struct ApiContext<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    /// REST only: content types (`image/png`, `*/*`) whose bodies are base64-encoded.
    pub binary_media_types: &'a [String],
}

impl IncomingRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The `Host` the request names, which events give as `domainName`.
    pub fn host(&self) -> &str {
        self.header("host").unwrap_or("localhost")
    }

    /// `(key, value)` pairs of the query string, decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(&self.query)
    }
}

/// Payload format 1.0. `path` is the route path without the stage.
pub fn rest_event(request: &IncomingRequest, matched: &Matched, path: &str, api: &ApiContext) -> Value {
    let (headers, multi_headers) = header_maps(&request.headers);
    let query = request.query_pairs();
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        let mut single = Map::new();
        let mut multi = Map::new();
        for (k, v) in &query {
            single.insert(k.clone(), Value::String(v.clone()));
            push_multi(&mut multi, k.clone(), v);
        }
        (Value::Object(single), Value::Object(multi))
    };
    let (body, encoded) = rest_body(request, api.binary_media_types);
    let user_agent = request.header("user-agent");
    json!({
        "resource": matched.route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": parameters(&matched.path_parameters),
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api.api_id,
            "resourceId": resource_id(&matched.route.resource),
            "resourcePath": matched.route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request.request_id,
            "requestId": request.request_id,
            "requestTime": request_time(request),
            "requestTimeEpoch": request.time.timestamp_millis(),
            "path": request.path,
            "protocol": request.protocol,
            "stage": api.stage,
            "domainName": request.host(),
            "domainPrefix": domain_prefix(request.host()),
            "identity": {
                "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
                "apiKey": null, "apiKeyId": null, "accessKey": null, "sourceIp": request.source_ip,
                "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null, "userArn": null,
                "userAgent": user_agent, "user": null, "principalOrgId": null,
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

/// REST passes text bodies as they are and base64-encodes the content types listed in binaryMediaTypes. A body
/// that is not UTF-8 is base64-encoded too, so no byte is lost.
fn rest_body(request: &IncomingRequest, binary_media_types: &[String]) -> (Value, bool) {
    if request.body.is_empty() {
        return (Value::Null, false);
    }
    let content_type = request.header("content-type").unwrap_or_default();
    let listed = binary_media_types.iter().any(|pattern| media_type_matches(pattern, content_type));
    match std::str::from_utf8(&request.body) {
        Ok(text) if !listed => (Value::String(text.to_string()), false),
        _ => (Value::String(base64::engine::general_purpose::STANDARD.encode(&request.body)), true),
    }
}

/// Content types API Gateway treats as text.
pub fn is_text(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.is_empty()
        || essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
        )
}

fn media_type_matches(pattern: &str, content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.split_once('/') {
        Some(("*", "*")) => !essence.is_empty(),
        Some((kind, "*")) => essence.split('/').next() == Some(kind),
        _ => essence == pattern,
    }
}

fn parameters(map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        json!(map)
    }
}

fn push_multi(map: &mut Map<String, Value>, key: String, value: &str) {
    match map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(items) => items.push(Value::String(value.to_string())),
        _ => unreachable!("multi-value entries are arrays"),
    }
}

/// `content-type` → `Content-Type`, as REST APIs show headers from typical clients.
pub(crate) fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `21/Apr/2020:15:08:21 +0000`
fn request_time(request: &IncomingRequest) -> String {
    format_request_time(request.time)
}

pub(crate) fn format_request_time(time: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than with `format("%d/%b/%Y…")`, which reads its pattern anew for every request.
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS[time.month0() as usize];
    let (day, year, hour, minute, second) = (time.day(), time.year(), time.hour(), time.minute(), time.second());
    format!("{day:02}/{month}/{year:04}:{hour:02}:{minute:02}:{second:02} +0000")
}

/// `headers` (last value wins) and `multiValueHeaders`, names as typical clients write them.
pub(crate) fn header_maps(headers: &[(String, String)]) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi = Map::new();
    for (name, value) in headers {
        let name = title_case(name);
        single.insert(name.clone(), Value::String(value.clone()));
        push_multi(&mut multi, name, value);
    }
    (single, multi)
}

pub(crate) fn domain_prefix(domain: &str) -> String {
    domain.split(['.', ':']).next().unwrap_or(domain).to_string()
}

/// A stable short id per resource path, like API Gateway's resource ids.
fn resource_id(resource: &str) -> String {
    let hash = resource.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    format!("{:06x}", hash & 0xffffff)
}

/// `(key, value)` pairs of a raw query string, decoded.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub(crate) fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_times_are_written_as_api_gateway_writes_them() {
        let time = chrono::DateTime::parse_from_rfc3339("2020-04-21T15:08:21.123Z").unwrap().to_utc();
        assert_eq!(super::format_request_time(time), "21/Apr/2020:15:08:21 +0000");
        let time = chrono::DateTime::parse_from_rfc3339("2026-12-05T03:04:05Z").unwrap().to_utc();
        assert_eq!(super::format_request_time(time), "05/Dec/2026:03:04:05 +0000");
    }
}
