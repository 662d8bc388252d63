//! The HTTP server on port 4000: reads a request, routes it, builds the event, invokes the function through
//! [`Lambda::invoke`], maps the result back, applies CORS, and logs one line per request.

use super::api::Api;
use super::auth::api_keys::Key;
use super::auth::identity::Parts;
use super::auth::lambda_authorizer::{AuthRequest, Flavour};
use super::auth::{self, Granted, Refusal, RouteGuard, Verdict};
use super::cors;
use super::events::{self, ApiContext, IncomingRequest};
use super::function_urls::{self, Addressed, FunctionUrls};
use super::http_routes::HttpRoutes;
use super::payload_v2;
use super::response::{self, GatewayError, Reply};
use super::routes::{Matched, Route};
use crate::aws::apigw as limits;
use crate::aws::endpoints::{HTTP_API, REST_API};
use crate::aws::names;
use crate::config::Cors;
use crate::lambda::{FunctionResult, InvokeRequest, Lambda, Trigger};
use crate::server::{self, read_body, Body, BodyError};
use arc_swap::ArcSwap;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The HTTP server of both APIs. Its routes are replaced whole by a live edit ([`HttpGateway::apply`]); a request
/// keeps the routes it started with.
pub struct HttpGateway {
    lambda: Arc<Lambda>,
    routes: ArcSwap<HttpRoutes>,
}

/// Where a request goes.
enum Target<'a> {
    Rest(Matched<'a>, String),
    HttpApi(Matched<'a>),
    FunctionUrl(Addressed<'a>),
    Preflight { cors: Cors, api: Api },
    NoRoute(Api),
}

impl HttpGateway {
    pub fn new(lambda: Arc<Lambda>, routes: HttpRoutes) -> Self {
        Self { lambda, routes: ArcSwap::from_pointee(routes) }
    }

    /// Takes the routes of an edited `serverless.yml`.
    pub fn apply(&self, routes: HttpRoutes) {
        self.routes.store(Arc::new(routes));
    }

    /// The routes as they are now.
    pub fn routes(&self) -> Arc<HttpRoutes> {
        self.routes.load_full()
    }

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let routes = self.routes.load_full();
        Exchange { lambda: &self.lambda, routes: &routes }.handle(request, peer).await
    }
}

/// One request against the routes it arrived under.
struct Exchange<'a> {
    lambda: &'a Arc<Lambda>,
    routes: &'a HttpRoutes,
}

impl Exchange<'_> {
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let method = parts.method.as_str().to_string();
        let path = parts.uri.path().to_string();
        let request_id = uuid::Uuid::new_v4().to_string();
        let rest_path = self.routes.rest_path(&path);
        let api_addressed = match &rest_path {
            _ if FunctionUrls::claims(&path) => Api::FunctionUrl,
            Some(_) => Api::Rest,
            None => Api::HttpApi,
        };
        let body = match read_body(body, limits::MAX_PAYLOAD_BYTES).await {
            Ok(body) => body,
            Err(unread) => {
                let error = match unread {
                    BodyError::TooLarge => GatewayError::TooLarge,
                    BodyError::Broken => GatewayError::Integration,
                };
                let reply = error_reply(api_addressed, error);
                return self.finish(api_addressed, &method, &path, None, reply, &request_id, started);
            }
        };
        let incoming = IncomingRequest {
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or_default().to_string(),
            headers: super::header_pairs(&parts.headers),
            body,
            source_ip: peer.ip().to_string(),
            protocol: format!("{:?}", parts.version),
            request_id: request_id.clone(),
            time: chrono::Utc::now(),
        };
        let origin = incoming.header("origin").map(String::from);
        let (function, reply) = match self.route(&incoming, rest_path.as_deref()) {
            Target::Preflight { cors, api: Api::FunctionUrl } => {
                (None, function_urls::preflight(&cors, origin.as_deref()))
            }
            Target::Preflight { cors, api } => (
                None,
                cors::preflight(&cors, origin.as_deref(), incoming.header("access-control-request-headers"), api),
            ),
            Target::NoRoute(api) => (None, error_reply(api, GatewayError::NoRoute)),
            Target::Rest(matched, route_path) => {
                let routes = self.routes;
                let api = ApiContext {
                    api_id: REST_API.local_id,
                    stage: &routes.stage,
                    binary_media_types: &routes.binary_media_types,
                };
                let mut event = events::rest_event(&incoming, &matched, &route_path, &api);
                let function = matched.route.function.clone();
                let target = (routes.stage.as_str(), route_path.as_str());
                let admitted =
                    self.authorize(matched.route, Api::Rest, &incoming, || Cow::Borrowed(&event), target, None);
                let reply = match admitted.await {
                    Ok(admission) => {
                        admission.apply_to_rest(&mut event);
                        let payload = serde_json::to_vec(&event).expect("events serialise");
                        let request = invocation(Api::Rest, payload, &incoming.method, &route_path);
                        self.invoke(&function, request, routes.rest_timeout, Api::Rest).await
                    }
                    Err(refused) => refused,
                };
                (Some(function), reply)
            }
            Target::FunctionUrl(addressed) => {
                let url = addressed.url;
                let event =
                    payload_v2::function_url_event(&incoming, &addressed.path, &url.url_id, &self.routes.region);
                let function = addressed.function.to_string();
                let request = invocation(Api::FunctionUrl, event.to_json(), &incoming.method, event.raw_path());
                let mut reply = self.invoke(&function, request, url.timeout, Api::FunctionUrl).await;
                if let Some(cors) = &url.config.cors {
                    function_urls::decorate(&mut reply, cors, origin.as_deref());
                }
                (Some(function), reply)
            }
            Target::HttpApi(matched) => {
                let api = ApiContext { api_id: HTTP_API.local_id, stage: "$default", binary_media_types: &[] };
                let mut event = payload_v2::http_api_event(&incoming, &matched, &api);
                let function = matched.route.function.clone();
                let path = event.raw_path().to_string();
                // A payload 1.0 authorizer gets the request as a REST REQUEST event.
                let v1_event =
                    matches!(&matched.route.guard, Some(RouteGuard::Lambda(a)) if a.flavour == Flavour::HttpApiV1)
                        .then(|| events::rest_event(&incoming, &matched, &path, &api));
                let target = ("$default", path.as_str());
                let as_value = || Cow::Owned(event.to_value());
                let admitted =
                    self.authorize(matched.route, Api::HttpApi, &incoming, as_value, target, v1_event.as_ref());
                let mut reply = match admitted.await {
                    Ok(admission) => {
                        event.grant(admission.authorizer);
                        let request = invocation(Api::HttpApi, event.to_json(), &incoming.method, &path);
                        self.invoke(&function, request, self.routes.http_api_timeout(&function), Api::HttpApi).await
                    }
                    Err(refused) => refused,
                };
                if let Some(cors) = &self.routes.http_api_cors {
                    cors::decorate(&mut reply, cors, origin.as_deref());
                }
                (Some(function), reply)
            }
        };
        self.finish(api_addressed, &method, &path, function.as_deref(), reply, &request_id, started)
    }

    fn route(&self, request: &IncomingRequest, rest_path: Option<&str>) -> Target<'_> {
        let method = request.method.as_str();
        if FunctionUrls::claims(&request.path) {
            let Some(addressed) = self.routes.function_urls.addressed(&request.path) else {
                return Target::NoRoute(Api::FunctionUrl);
            };
            return match &addressed.url.config.cors {
                // Lambda answers the preflight of a URL with CORS itself; without CORS it reaches the function.
                Some(cors) if method == "OPTIONS" && request.header("access-control-request-method").is_some() => {
                    Target::Preflight { cors: cors.clone(), api: Api::FunctionUrl }
                }
                _ => Target::FunctionUrl(addressed),
            };
        }
        let table = &self.routes.table;
        if let Some(rest_path) = rest_path {
            if let Some(matched) = table.match_rest(method, rest_path) {
                if !(method == "OPTIONS" && matched.route.method != "OPTIONS" && self.rest_cors(rest_path).is_some()) {
                    return Target::Rest(matched, rest_path.to_string());
                }
            }
            if method == "OPTIONS" {
                if let Some(cors) = self.rest_cors(rest_path) {
                    return Target::Preflight { cors, api: Api::Rest };
                }
            }
        }
        if table.has_http_api() {
            if method == "OPTIONS" {
                if let Some(cors) = &self.routes.http_api_cors {
                    return Target::Preflight { cors: cors.clone(), api: Api::HttpApi };
                }
            }
            if let Some(matched) = table.match_http_api(method, &request.path) {
                return Target::HttpApi(matched);
            }
        }
        let rest = rest_path.is_some() && table.has_rest() || !table.has_http_api();
        Target::NoRoute(if rest { Api::Rest } else { Api::HttpApi })
    }

    /// The route's authorizer and API key check. An allowed request is admitted with what they grant, for its event
    /// (`requestContext.authorizer`, `identity.apiKey`); a refused one gets the gateway's response. `event` gives
    /// the integration's event as a value, asked for only when the route has a guard. `(stage, path)` name the
    /// method ARN policies are evaluated against.
    async fn authorize<'e>(
        &self,
        route: &Route,
        api: Api,
        incoming: &IncomingRequest,
        event: impl FnOnce() -> Cow<'e, Value>,
        (stage, path): (&str, &str),
        v1_event: Option<&Value>,
    ) -> Result<Admission<'_>, Reply> {
        let granted = match &route.guard {
            None => Granted::default(),
            Some(guard) => {
                let api_id = if api == Api::Rest { REST_API.local_id } else { HTTP_API.local_id };
                let arn = names::execute_api_arn(&self.routes.region, api_id, stage, &incoming.method, path);
                let arn = arn.as_str();
                let query = incoming.query_pairs();
                let event = event();
                let event = event.as_ref();
                let parts = Parts { headers: &incoming.headers, query: &query, context: &event["requestContext"] };
                let request = AuthRequest { parts, event, arn, v1_event };
                match auth::check(guard, self.lambda, &request).await {
                    Verdict::Allow(granted) => granted,
                    Verdict::Refuse(refusal) => return Err(refusal.reply(api)),
                }
            }
        };
        let api_key = match route.api_key_required {
            false => None,
            true => match self.routes.api_keys.admit(incoming.header("x-api-key"), granted.usage_key.as_deref()) {
                Some(key) => Some(key),
                None => return Err(Refusal::Forbidden.reply(api)),
            },
        };
        Ok(Admission { authorizer: granted.context, api_key })
    }

    /// The CORS configuration of the REST routes at a path, their methods combined (one OPTIONS per resource).
    fn rest_cors(&self, rest_path: &str) -> Option<Cors> {
        let routes = self.routes.table.rest_routes_for_path(rest_path);
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

    /// Invokes the function and maps its result. HTTP APIs and function URLs pass a streamed response on as it
    /// arrives; the REST API reads it whole first.
    async fn invoke(&self, function: &str, request: InvokeRequest, timeout: Duration, api: Api) -> Reply {
        // If the gateway stops waiting, the function still finishes (or times out) on its own: an invocation
        // runs on a task of its own (`Lambda::invoke_streaming`).
        let invocation = async {
            match api {
                Api::Rest => self.lambda.invoke(function, request).await,
                Api::HttpApi | Api::FunctionUrl => self.lambda.invoke_streaming(function, request).await,
            }
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let result = match tokio::time::timeout_at(deadline, invocation).await {
            Ok(Some(response)) => response.result,
            Ok(None) => return error_reply(api, GatewayError::Integration),
            Err(_) => return self.timed_out(function, timeout, api),
        };
        let mapped = match (api, result.clone()) {
            (Api::Rest, _) => response::rest_response(&result),
            (_, FunctionResult::Streaming(stream)) => {
                match tokio::time::timeout_at(deadline, response::streaming_reply(stream)).await {
                    Ok(mapped) => mapped,
                    Err(_) => return self.timed_out(function, timeout, api),
                }
            }
            (Api::HttpApi | Api::FunctionUrl, _) => response::http_api_response(&result),
        };
        mapped.unwrap_or_else(|error| {
            match &result {
                FunctionResult::Error { payload, .. } => {
                    tracing::warn!(target: "http", "{function} failed: {}", String::from_utf8_lossy(payload))
                }
                FunctionResult::Success(payload) => tracing::warn!(
                    target: "http",
                    "{function} returned a malformed {} response: {}",
                    api.payload_format(),
                    String::from_utf8_lossy(&payload[..payload.len().min(300)])
                ),
                FunctionResult::Streaming(_) => {
                    tracing::warn!(target: "http", "{function}'s response stream failed before its status and headers")
                }
                FunctionResult::Streamed(_) => {}
            }
            error_reply(api, error)
        })
    }

    fn timed_out(&self, function: &str, timeout: Duration, api: Api) -> Reply {
        tracing::warn!(target: "http", "{function} did not answer within the integration timeout ({:.1} s)", timeout.as_secs_f64());
        error_reply(api, GatewayError::Timeout)
    }

    /// Logs the request's line and writes its response; `api` is the API the request was addressed to.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        api: Api,
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
        let mut builder = Response::builder().status(reply.status);
        for (name, value) in &reply.headers {
            builder = builder.header(name, value);
        }
        let request_id_header = match api {
            Api::Rest | Api::FunctionUrl => "x-amzn-requestid",
            Api::HttpApi => "apigw-requestid",
        };
        builder = builder.header(request_id_header, request_id);
        let body = match reply.rest.as_ref().and_then(|rest| rest.take()) {
            Some(rest) => server::streamed(reply.body, live_chunks(rest)),
            None => server::full(reply.body),
        };
        builder.body(body).unwrap_or_else(|_| {
            let fallback = error_reply(api, GatewayError::Integration);
            Response::builder()
                .status(fallback.status)
                .body(server::full(fallback.body))
                .expect("static parts are valid")
        })
    }
}

/// The chunks of a streamed body as they arrive. An error the function reports mid-stream cuts the response off,
/// as Lambda ends such a stream: the client sees an incomplete body, not a complete one.
fn live_chunks(
    chunks: tokio::sync::mpsc::Receiver<crate::lambda::result::Chunk>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some(chunks), |state| async move {
        let mut chunks = state?;
        match chunks.recv().await? {
            Ok(bytes) => Some((Ok(bytes), Some(chunks))),
            Err((error_type, _)) => {
                let failure = std::io::Error::other(format!("the function's response stream failed: {error_type}"));
                Some((Err(failure), None))
            }
        }
    })
}

/// The gateway's own error, in the shape of the API the request was for.
fn error_reply(api: Api, error: GatewayError) -> Reply {
    match api {
        Api::Rest => Reply::rest_error(error),
        Api::HttpApi => Reply::http_api_error(error),
        Api::FunctionUrl => Reply::function_url_error(error),
    }
}

/// The invocation of an event, with the journal's record of what invoked the function: the API, and the method
/// and path the event carries (REST: `httpMethod` and `path`; HTTP API and function URLs: `requestContext.http`
/// and `rawPath`).
fn invocation(api: Api, payload: Vec<u8>, method: &str, path: &str) -> InvokeRequest {
    let trigger = Trigger::Http { api: api.name().to_string(), method: method.to_string(), path: path.to_string() };
    InvokeRequest::new(payload).by(trigger)
}

/// What a request's guard and API key check let through to its event.
struct Admission<'r> {
    /// `requestContext.authorizer`: what the authorizer granted (null without one).
    authorizer: Value,
    /// REST only: the API key the request was admitted with.
    api_key: Option<&'r Key>,
}

impl Admission<'_> {
    /// A REST event's share: `requestContext.authorizer` and the API key in `requestContext.identity`.
    fn apply_to_rest(self, event: &mut Value) {
        if let Some(key) = self.api_key {
            event["requestContext"]["identity"]["apiKey"] = Value::String(key.value.clone());
            event["requestContext"]["identity"]["apiKeyId"] = Value::String(key.id.clone());
        }
        if !self.authorizer.is_null() {
            event["requestContext"]["authorizer"] = self.authorizer;
        }
    }
}
