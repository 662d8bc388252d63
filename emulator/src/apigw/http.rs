//! The HTTP server on port 4000: reads a request, routes it, builds the event, invokes the function through
//! [`Lambda::invoke`], maps the result back, applies CORS, and logs one line per request.

use super::cors;
use super::events::{self, ApiContext, IncomingRequest};
use super::response::{self, GatewayError, Reply};
use super::routes::{Api, Matched, RouteTable};
use crate::aws::apigw as limits;
use crate::aws::endpoints::{HTTP_API, REST_API};
use crate::config::{Cors, Service};
use crate::lambda::{InvokeRequest, Lambda};
use crate::server::{read_body, Body, BodyError};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct HttpGateway {
    routes: RouteTable,
    lambda: Arc<Lambda>,
    stage: String,
    prefix_stage: bool,
    http_api_cors: Option<Cors>,
    binary_media_types: Vec<String>,
    /// Integration timeout per function key and API.
    rest_timeout: Duration,
    http_api_timeouts: HashMap<String, Duration>,
}

/// Where a request goes.
enum Target<'a> {
    Rest(Matched<'a>, String),
    HttpApi(Matched<'a>),
    Preflight { cors: Cors, rest: bool },
    NoRoute(Api),
}

impl HttpGateway {
    pub fn new(
        service: &Service,
        lambda: Arc<Lambda>,
        integration_timeout: Option<Duration>,
    ) -> Result<Self, crate::Error> {
        let http_api_cors = match service.provider.http_api.as_ref().and_then(|h| h.cors.as_ref()) {
            Some(value) => Cors::from_http_api(value, "provider.httpApi.cors").map_err(|e| service.locate(e))?,
            None => None,
        };
        let http_api_timeouts = service
            .functions
            .values()
            .map(|f| {
                let serverless = Duration::from_secs_f64(f.timeout_seconds) + limits::HTTP_API_TIMEOUT_MARGIN;
                (f.key.clone(), integration_timeout.unwrap_or(serverless.min(limits::HTTP_API_MAX_INTEGRATION_TIMEOUT)))
            })
            .collect();
        Ok(Self {
            routes: RouteTable::from_service(service),
            lambda,
            stage: service.stage.clone(),
            prefix_stage: !service.offline.no_prepend_stage_in_url,
            http_api_cors,
            binary_media_types: service
                .provider
                .api_gateway
                .as_ref()
                .map(|a| a.binary_media_types.clone())
                .unwrap_or_default(),
            rest_timeout: integration_timeout.unwrap_or(limits::REST_INTEGRATION_TIMEOUT),
            http_api_timeouts,
        })
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// URL path prefix of REST routes: `/dev`, or nothing with noPrependStageInUrl.
    pub fn rest_prefix(&self) -> String {
        if self.prefix_stage {
            format!("/{}", self.stage)
        } else {
            String::new()
        }
    }

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let rest_path = self.rest_path(&path);
        let body = match read_body(body, limits::MAX_PAYLOAD_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return self.finish(
                    &method,
                    &path,
                    None,
                    self.error(rest_path.is_some(), GatewayError::TooLarge),
                    &request_id,
                    started,
                )
            }
            Err(BodyError::Broken) => {
                return self.finish(
                    &method,
                    &path,
                    None,
                    self.error(rest_path.is_some(), GatewayError::Integration),
                    &request_id,
                    started,
                )
            }
        };
        let incoming = IncomingRequest {
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            body,
            source_ip: peer.ip().to_string(),
            protocol: format!("{:?}", parts.version),
            request_id: request_id.clone(),
            time: chrono::Utc::now(),
        };
        let origin = incoming.header("origin").map(String::from);
        let (function, reply) = match self.route(&incoming, rest_path.as_deref()) {
            Target::Preflight { cors, rest } => (
                None,
                cors::preflight(&cors, origin.as_deref(), incoming.header("access-control-request-headers"), rest),
            ),
            Target::NoRoute(api) => (None, self.error(api == Api::Rest, GatewayError::NoRoute)),
            Target::Rest(matched, route_path) => {
                let api = ApiContext {
                    api_id: REST_API.local_id,
                    stage: &self.stage,
                    binary_media_types: &self.binary_media_types,
                };
                let event = events::rest_event(&incoming, &matched, &route_path, &api);
                let function = matched.route.function.clone();
                let reply = self.invoke(&function, event, self.rest_timeout, true).await;
                (Some(function), reply)
            }
            Target::HttpApi(matched) => {
                let api = ApiContext { api_id: HTTP_API.local_id, stage: "$default", binary_media_types: &[] };
                let event = events::http_api_event(&incoming, &matched, &api);
                let function = matched.route.function.clone();
                let timeout =
                    self.http_api_timeouts.get(&function).copied().unwrap_or(limits::HTTP_API_MAX_INTEGRATION_TIMEOUT);
                let mut reply = self.invoke(&function, event, timeout, false).await;
                if let Some(cors) = &self.http_api_cors {
                    cors::decorate(&mut reply, cors, origin.as_deref());
                }
                (Some(function), reply)
            }
        };
        self.finish(&method, &path, function.as_deref(), reply, &request_id, started)
    }

    /// The path inside the REST API (without `/{stage}`), when the request is addressed to it.
    fn rest_path(&self, path: &str) -> Option<String> {
        if !self.prefix_stage {
            return Some(path.to_string());
        }
        let prefix = format!("/{}", self.stage);
        match path.strip_prefix(&prefix) {
            Some("") => Some("/".to_string()),
            Some(rest) if rest.starts_with('/') => Some(rest.to_string()),
            _ => None,
        }
    }

    fn route<'a>(&'a self, request: &IncomingRequest, rest_path: Option<&str>) -> Target<'a> {
        let method = request.method.as_str();
        if let Some(rest_path) = rest_path {
            if let Some(matched) = self.routes.match_rest(method, rest_path) {
                if !(method == "OPTIONS" && matched.route.method != "OPTIONS" && self.rest_cors(rest_path).is_some()) {
                    return Target::Rest(matched, rest_path.to_string());
                }
            }
            if method == "OPTIONS" {
                if let Some(cors) = self.rest_cors(rest_path) {
                    return Target::Preflight { cors, rest: true };
                }
            }
        }
        if self.routes.has_http_api() {
            if method == "OPTIONS" {
                if let Some(cors) = &self.http_api_cors {
                    return Target::Preflight { cors: cors.clone(), rest: false };
                }
            }
            if let Some(matched) = self.routes.match_http_api(method, &request.path) {
                return Target::HttpApi(matched);
            }
        }
        let rest = rest_path.is_some() && self.routes.has_rest() || !self.routes.has_http_api();
        Target::NoRoute(if rest { Api::Rest } else { Api::HttpApi })
    }

    /// The CORS configuration of the REST routes at a path, their methods combined (one OPTIONS per resource).
    fn rest_cors(&self, rest_path: &str) -> Option<Cors> {
        let routes = self.routes.rest_routes_for_path(rest_path);
        let mut cors = routes.iter().find_map(|r| r.cors.clone())?;
        let mut methods = vec!["OPTIONS".to_string()];
        for route in routes.iter().filter(|r| r.cors.is_some()) {
            for method in &route.cors.as_ref().expect("filtered").methods {
                if !methods.contains(method) {
                    methods.push(method.clone());
                }
            }
        }
        cors.methods = methods;
        Some(cors)
    }

    async fn invoke(&self, function: &str, event: serde_json::Value, timeout: Duration, rest: bool) -> Reply {
        let payload = serde_json::to_vec(&event).expect("events serialise");
        let lambda = self.lambda.clone();
        let key = function.to_string();
        // The invocation runs on; if the gateway stops waiting, the function still finishes (or times out) on its own.
        let invocation = tokio::spawn(async move { lambda.invoke(&key, InvokeRequest::new(payload)).await });
        let result = match tokio::time::timeout(timeout, invocation).await {
            Ok(Ok(Some(response))) => response.result,
            Ok(_) => return self.error(rest, GatewayError::Integration),
            Err(_) => {
                tracing::warn!(target: "http", "{function} did not answer within the integration timeout ({:.1} s)", timeout.as_secs_f64());
                return self.error(rest, GatewayError::Timeout);
            }
        };
        let mapped = if rest { response::rest_response(&result) } else { response::http_api_response(&result) };
        mapped.unwrap_or_else(|error| {
            match &result {
                crate::lambda::FunctionResult::Error { payload, .. } => {
                    tracing::warn!(target: "http", "{function} failed: {}", String::from_utf8_lossy(payload))
                }
                crate::lambda::FunctionResult::Success(payload) => tracing::warn!(
                    target: "http",
                    "{function} returned a malformed {} response: {}",
                    if rest { "Lambda proxy (payload 1.0)" } else { "HTTP API (payload 2.0)" },
                    String::from_utf8_lossy(&payload[..payload.len().min(300)])
                ),
            }
            self.error(rest, error)
        })
    }

    fn error(&self, rest: bool, error: GatewayError) -> Reply {
        if rest {
            Reply::rest_error(error)
        } else {
            Reply::http_api_error(error)
        }
    }

    fn finish(
        &self,
        method: &str,
        path: &str,
        function: Option<&str>,
        reply: Reply,
        request_id: &str,
        started: Instant,
    ) -> Response<Body> {
        tracing::info!(
            target: "http",
            "{method} {path} → {} {} ({:.1} ms)",
            function.unwrap_or("-"),
            reply.status,
            started.elapsed().as_secs_f64() * 1000.0
        );
        let rest = self.rest_path(path).is_some();
        let mut builder = Response::builder().status(reply.status);
        for (name, value) in &reply.headers {
            builder = builder.header(name, value);
        }
        builder = builder.header(if rest { "x-amzn-requestid" } else { "apigw-requestid" }, request_id);
        builder.body(Full::new(reply.body)).unwrap_or_else(|_| {
            let fallback = self.error(rest, GatewayError::Integration);
            Response::builder().status(fallback.status).body(Full::new(fallback.body)).expect("static parts are valid")
        })
    }
}
