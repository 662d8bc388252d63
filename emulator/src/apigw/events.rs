//! Lambda events as API Gateway builds them from an HTTP request: payload format 1.0 (REST API proxy
//! integration) and 2.0 (HTTP API). Pure functions, checked against AWS's sample events in the tests.

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

    fn domain_name(&self) -> String {
        self.header("host").unwrap_or("localhost").to_string()
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
            "domainName": request.domain_name(),
            "domainPrefix": domain_prefix(&request.domain_name()),
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

/// Payload format 2.0 of an HTTP API route. Unlike REST APIs and function URLs, HTTP APIs hand over the path
/// percent-decoded (`rawPath` and `http.path`), cut at a decoded `?` (captured from API Gateway; see
/// hotsock/voker#8 and middleapi/standard-server#93).
pub fn http_api_event(request: &IncomingRequest, matched: &Matched, api: &ApiContext) -> Value {
    let domain = request.domain_name();
    let route_key = &matched.route.route_key;
    let context = V2Context { account_id: ACCOUNT_ID, api_id: api.api_id, domain_name: &domain };
    let decoded = decode(&request.path);
    let path = decoded.split('?').next().unwrap_or_default();
    let mut event = payload_v2(request, path, route_key, &context);
    if !matched.path_parameters.is_empty() {
        event["pathParameters"] = json!(matched.path_parameters);
    }
    event
}

/// Payload format 2.0 as Lambda builds it for a function URL (events recorded from AWS): the route key
/// `$default`, the path inside the URL, `anonymous` as the account of an unauthenticated caller, the URL's id
/// and domain; the `cookie` header kept beside `cookies`; the `x-forwarded-*` and `x-amzn-trace-id` headers
/// Lambda adds; a body without a content type base64-encoded.
pub fn function_url_event(request: &IncomingRequest, path: &str, url_id: &str, region: &str) -> Value {
    let domain = crate::aws::names::function_url_domain(url_id, region);
    let context = V2Context { account_id: "anonymous", api_id: url_id, domain_name: &domain };
    let mut event = payload_v2(request, path, "$default", &context);
    let headers = event["headers"].as_object_mut().expect("headers are an object");
    let mut add = |name: &str, value: String| {
        headers.entry(name).or_insert(Value::String(value));
    };
    if let Some(cookie) = request.header("cookie") {
        add("cookie", cookie.to_string());
    }
    add("x-forwarded-for", request.source_ip.clone());
    add("x-forwarded-proto", "http".to_string());
    let port = request.header("host").and_then(|h| h.rsplit_once(':')).map_or("80", |(_, port)| port);
    add("x-forwarded-port", port.to_string());
    add("x-amzn-trace-id", crate::lambda::pool::trace_header(&request.request_id));
    if request.header("content-type").is_none() && !request.body.is_empty() {
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&request.body));
        event["isBase64Encoded"] = json!(true);
    }
    event
}

/// Who a 2.0 event says received the request.
struct V2Context<'a> {
    account_id: &'a str,
    api_id: &'a str,
    domain_name: &'a str,
}

/// Payload format 2.0: lower-case headers, repeated values comma-joined, cookies apart, no multi-value maps.
fn payload_v2(request: &IncomingRequest, path: &str, route_key: &str, context: &V2Context) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &request.headers {
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        headers.entry(name.clone()).and_modify(|v| *v = format!("{v},{value}")).or_insert_with(|| value.clone());
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in request.query_pairs() {
        query.entry(k).and_modify(|old| *old = format!("{old},{v}")).or_insert(v);
    }
    let (body, encoded) = http_api_body(request);
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": context.api_id,
            "domainName": context.domain_name,
            "domainPrefix": domain_prefix(context.domain_name),
            "http": {
                "method": request.method,
                "path": path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent").unwrap_or_default(),
            },
            "requestId": request.request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": request_time(request),
            "timeEpoch": request.time.timestamp_millis(),
        },
        "isBase64Encoded": encoded,
    });
    let fields = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        fields.insert("cookies".into(), json!(cookies));
    }
    if !query.is_empty() {
        fields.insert("queryStringParameters".into(), json!(query));
    }
    if let Some(body) = body {
        fields.insert("body".into(), Value::String(body));
    }
    event
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

/// HTTP APIs pass text content types as text and base64-encode everything else.
fn http_api_body(request: &IncomingRequest) -> (Option<String>, bool) {
    if request.body.is_empty() {
        return (None, false);
    }
    let content_type = request.header("content-type").unwrap_or_default();
    match std::str::from_utf8(&request.body) {
        Ok(text) if is_text(content_type) => (Some(text.to_string()), false),
        _ => (Some(base64::engine::general_purpose::STANDARD.encode(&request.body)), true),
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
    time.format("%d/%b/%Y:%H:%M:%S +0000").to_string()
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

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}
