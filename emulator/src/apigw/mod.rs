//! API Gateway's HTTP side on one port: the REST API (`http` events, payload 1.0, served under `/{stage}`) and
//! the HTTP API (`httpApi` events, payload 2.0, served at the root), as serverless-offline serves them.
//!
//! - [`api`]: which API a request came through (REST, HTTP API, function URL).
//! - [`routes`]: which route (and function) a request goes to.
//! - [`auth`]: authorizers and API keys, checked before the integration.
//! - [`events`]: the request as received, and the REST API's events (payload 1.0; pure).
//! - [`payload_v2`]: the HTTP API's and function URLs' events (payload 2.0), typed (pure).
//! - [`response`]: Lambda results → HTTP responses, and the gateway's own errors (pure).
//! - [`cors`]: preflight answers and allow headers.
//! - [`function_urls`]: Lambda function URLs, served on the same port under `/lambda-url/<function>/`.
//! - [`http_routes`]: the HTTP APIs' part of the plan (routes, stage, CORS, function URLs, timeouts).
//! - [`http`]: the server that puts them together.
//! - [`websocket`]: the WebSocket API and its `@connections` management API.
//!
//! Both gateways take a live edit the same way: `apply` swaps their route table, and a request or message keeps
//! the table it arrived under.

pub mod api;
pub mod auth;
pub mod cors;
pub mod events;
pub mod function_urls;
pub mod http;
pub mod http_routes;
pub mod payload_v2;
pub mod response;
pub mod routes;
pub mod samples;
pub mod websocket;

use hyper::HeaderMap;

/// Request headers as (name, value) pairs in arrival order, names lower-case (as hyper keeps them), values read
/// leniently: what both gateways put in events.
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect()
}

/// The part of `path` under `/{stage}`: `Some("")` for `/dev`, `Some("/x")` for `/dev/x`, `None` for `/devx` or
/// another stage.
pub fn strip_stage<'a>(path: &'a str, stage: &str) -> Option<&'a str> {
    let inside = path.strip_prefix('/')?.strip_prefix(stage)?;
    (inside.is_empty() || inside.starts_with('/')).then_some(inside)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stage_prefix_is_a_whole_segment() {
        assert_eq!(super::strip_stage("/dev", "dev"), Some(""));
        assert_eq!(super::strip_stage("/dev/tasks", "dev"), Some("/tasks"));
        assert_eq!(super::strip_stage("/devx", "dev"), None);
        assert_eq!(super::strip_stage("/prod/tasks", "dev"), None);
    }
}
