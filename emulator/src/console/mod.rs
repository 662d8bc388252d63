//! The web console: a page on its own port (4003 by default) that shows the running app and steers it. It owns
//! the console's server: who may use it ([`access`]), the page and its assets compiled into the binary
//! ([`assets`]), what it reads ([`views`]) and does ([`actions`]) through the services' own APIs, and the live
//! feed of the journal and the queues' counts ([`live`]).
//!
//! Routes: `GET /` the page; `GET /api/...` views; `POST /api/...` actions (with the page's token);
//! `GET /api/live` server-sent events.

pub mod access;
pub mod actions;
pub mod assets;
pub mod live;
pub mod samples;
pub mod views;

use crate::apigw::http::HttpGateway;
use crate::apigw::websocket::server::WebSocketGateway;
use crate::aws::endpoints::LocalEndpoints;
use crate::config::Service;
use crate::dynamodb::json_api::JsonApi;
use crate::lambda::Lambda;
use crate::live::Services;
use crate::server::{json, Body};
use crate::sns::Sns;
use crate::sqs::Sqs;
use access::Access;
use arc_swap::ArcSwap;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// Where the console listens, whatever `--host` says: it can change everything, so only this machine reaches it.
pub const LOOPBACK: &str = "127.0.0.1";

/// Console requests' bodies are small: a payload to invoke with, a message, an item.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// What the console reads and steers: the running services, and where the app's database is.
pub struct Console {
    pub lambda: Arc<Lambda>,
    pub sqs: Arc<Sqs>,
    pub pauses: Arc<crate::sqs::pauses::Pauses>,
    pub sns: Arc<Sns>,
    pub http: Arc<HttpGateway>,
    pub websocket: Arc<WebSocketGateway>,
    pub service: Arc<ArcSwap<Service>>,
    pub endpoints: LocalEndpoints,
    pub dynamodb: JsonApi,
    access: Access,
}

impl Console {
    /// The console of `services`, for a server bound to [`LOOPBACK`]`:port`.
    pub fn new(
        services: &Services,
        service: Arc<ArcSwap<Service>>,
        endpoints: LocalEndpoints,
        dynamodb_endpoint: &str,
        port: u16,
    ) -> Arc<Self> {
        let region = service.load().region.clone();
        services.lambda.journal().enable();
        Arc::new(Self {
            lambda: services.lambda.clone(),
            sqs: services.sqs.clone(),
            pauses: services.pauses.clone(),
            sns: services.sns.clone(),
            http: services.http.clone(),
            websocket: services.websocket.clone(),
            service,
            endpoints,
            dynamodb: JsonApi::new(dynamodb_endpoint, &region),
            access: Access::new(port),
        })
    }

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        if let Err(reason) = self.access.check(&request) {
            tracing::warn!(target: "console", "refused {} {}: {reason}", request.method(), request.uri().path());
            return error(StatusCode::FORBIDDEN, "Forbidden", &reason);
        }
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or_default().to_string();
        let segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (request.method().clone(), segments.as_slice()) {
            (Method::GET, [""]) => assets::page(self.access.token()),
            (Method::GET, [file]) if assets::is_asset(file) => assets::asset(file),
            (Method::GET, ["api", "live"]) => live::stream(&self),
            (Method::GET, ["api", rest @ ..]) => views::answer(&self, rest, &query).await,
            (Method::POST, ["api", rest @ ..]) => {
                let body = match crate::server::read_body(request.into_body(), MAX_REQUEST_BYTES).await {
                    Ok(body) => body,
                    Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "TooLarge", "the request body is too large"),
                };
                actions::answer(&self, rest, &body).await
            }
            _ => error(StatusCode::NOT_FOUND, "NotFound", &format!("nothing at {path}")),
        }
    }
}

/// An error answer the page shows: `{"error": {"type", "message"}}`.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    json(status, &json!({ "error": { "type": kind, "message": message } }))
}

/// A query parameter, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    crate::aws::query::Form::parse(Some(query), b"").get(name)
}
