//! Payload format 2.0, the event HTTP APIs and function URLs hand a function, as typed fields written straight to
//! JSON. The gateway builds one per request: as a tree of `serde_json` values, whose maps hash every key, it was
//! the largest part of the gateway's own work under load (issue #28's profile). The authorizers and the console's
//! sample event read it as a value ([`PayloadV2::to_value`]).

use super::events::{decode, domain_prefix, format_request_time, is_text, ApiContext, IncomingRequest};
use super::routes::Matched;
use crate::aws::ACCOUNT_ID;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A payload 2.0 event, its fields in the order of AWS's sample events.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadV2<'a> {
    version: &'static str,
    route_key: &'a str,
    raw_path: String,
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<&'a str>,
    /// Lower-case names; a repeated header's values comma-joined.
    headers: BTreeMap<&'a str, Cow<'a, str>>,
    /// A repeated parameter's values comma-joined.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    query_string_parameters: BTreeMap<String, String>,
    request_context: RequestContext<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_parameters: Option<&'a BTreeMap<String, String>>,
    is_base64_encoded: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext<'a> {
    account_id: &'a str,
    api_id: &'a str,
    /// What the route's authorizer granted (`{"lambda": …}` or `{"jwt": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<Value>,
    domain_name: Cow<'a, str>,
    domain_prefix: String,
    http: Http<'a>,
    request_id: &'a str,
    route_key: &'a str,
    stage: &'static str,
    time: String,
    time_epoch: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Http<'a> {
    method: &'a str,
    path: String,
    protocol: &'a str,
    source_ip: &'a str,
    user_agent: &'a str,
}

/// The event of an HTTP API route. Unlike REST APIs and function URLs, HTTP APIs hand over the path
/// percent-decoded (`rawPath` and `http.path`), cut at a decoded `?` (captured from API Gateway; see
/// hotsock/voker#8 and middleapi/standard-server#93).
pub fn http_api_event<'a>(request: &'a IncomingRequest, matched: &'a Matched, api: &ApiContext<'a>) -> PayloadV2<'a> {
    let decoded = decode(&request.path);
    let path = decoded.split('?').next().unwrap_or_default();
    let context = Receiver { account_id: ACCOUNT_ID, api_id: api.api_id, domain_name: request.host().into() };
    let mut event = PayloadV2::new(request, path, &matched.route.route_key, context);
    if !matched.path_parameters.is_empty() {
        event.path_parameters = Some(&matched.path_parameters);
    }
    event
}

/// The event Lambda builds for a function URL (events recorded from AWS): the route key `$default`, the path
/// inside the URL, `anonymous` as the account of an unauthenticated caller, the URL's id and domain; the `cookie`
/// header kept beside `cookies`; the `x-forwarded-*` and `x-amzn-trace-id` headers Lambda adds; a body without a
/// content type base64-encoded.
pub fn function_url_event<'a>(
    request: &'a IncomingRequest,
    path: &str,
    url_id: &'a str,
    region: &str,
) -> PayloadV2<'a> {
    let domain = crate::aws::names::function_url_domain(url_id, region);
    let context = Receiver { account_id: "anonymous", api_id: url_id, domain_name: domain.into() };
    let mut event = PayloadV2::new(request, path, "$default", context);
    let headers = &mut event.headers;
    let mut add = |name: &'static str, value: Cow<'a, str>| {
        headers.entry(name).or_insert(value);
    };
    if let Some(cookie) = request.header("cookie") {
        add("cookie", cookie.into());
    }
    add("x-forwarded-for", request.source_ip.as_str().into());
    add("x-forwarded-proto", "http".into());
    let port = request.header("host").and_then(|h| h.rsplit_once(':')).map_or("80", |(_, port)| port);
    add("x-forwarded-port", port.into());
    add("x-amzn-trace-id", crate::lambda::pool::trace_header(&request.request_id).into());
    if request.header("content-type").is_none() && !request.body.is_empty() {
        event.body = Some(base64::engine::general_purpose::STANDARD.encode(&request.body).into());
        event.is_base64_encoded = true;
    }
    event
}

/// Who a 2.0 event says received the request.
struct Receiver<'a> {
    account_id: &'a str,
    api_id: &'a str,
    domain_name: Cow<'a, str>,
}

impl<'a> PayloadV2<'a> {
    /// Lower-case headers, repeated values comma-joined, cookies apart, no multi-value maps.
    fn new(request: &'a IncomingRequest, path: &str, route_key: &'a str, receiver: Receiver<'a>) -> Self {
        let mut headers: BTreeMap<&'a str, Cow<'a, str>> = BTreeMap::new();
        let mut cookies = Vec::new();
        for (name, value) in &request.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
                continue;
            }
            headers
                .entry(name.as_str())
                .and_modify(|joined| *joined = format!("{joined},{value}").into())
                .or_insert(Cow::Borrowed(value.as_str()));
        }
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in request.query_pairs() {
            query.entry(k).and_modify(|old| *old = format!("{old},{v}")).or_insert(v);
        }
        let (body, is_base64_encoded) = body(request);
        let domain_prefix = domain_prefix(&receiver.domain_name);
        Self {
            version: "2.0",
            route_key,
            raw_path: path.to_string(),
            raw_query_string: &request.query,
            cookies,
            headers,
            query_string_parameters: query,
            request_context: RequestContext {
                account_id: receiver.account_id,
                api_id: receiver.api_id,
                authorizer: None,
                domain_name: receiver.domain_name,
                domain_prefix,
                http: Http {
                    method: &request.method,
                    path: path.to_string(),
                    protocol: &request.protocol,
                    source_ip: &request.source_ip,
                    user_agent: request.header("user-agent").unwrap_or_default(),
                },
                request_id: &request.request_id,
                route_key,
                stage: "$default",
                time: format_request_time(request.time),
                time_epoch: request.time.timestamp_millis(),
            },
            body,
            path_parameters: None,
            is_base64_encoded,
        }
    }

    /// `rawPath`: the path the function sees.
    pub fn raw_path(&self) -> &str {
        &self.raw_path
    }

    /// Adds what the route's authorizer granted as `requestContext.authorizer` (nothing for `null`).
    pub fn grant(&mut self, authorizer: Value) {
        if !authorizer.is_null() {
            self.request_context.authorizer = Some(authorizer);
        }
    }

    /// The event as the function receives it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("events serialise")
    }

    /// The event as a value, for those that read or extend it (authorizers, the console).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("events serialise")
    }
}

/// HTTP APIs pass text content types as text and base64-encode everything else.
fn body(request: &IncomingRequest) -> (Option<Cow<'_, str>>, bool) {
    if request.body.is_empty() {
        return (None, false);
    }
    let content_type = request.header("content-type").unwrap_or_default();
    match std::str::from_utf8(&request.body) {
        Ok(text) if is_text(content_type) => (Some(text.into()), false),
        _ => (Some(base64::engine::general_purpose::STANDARD.encode(&request.body).into()), true),
    }
}
