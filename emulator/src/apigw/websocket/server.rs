//! The WebSocket server on port 4001 (at `/` and `/{stage}`), with the management API beside it. `$connect`
//! runs before the handshake completes and can refuse it; messages are routed by the route selection expression;
//! `$disconnect` follows every way a connection ends (client close, network drop, DeleteConnection, idle
//! timeout, maximum duration). Frame and message limits are API Gateway's, and binary frames are refused.

use super::connections::{Connection, Connections, Outbound};
use super::events::{self as ws_events, WsApi};
use super::management;
use super::routes::WsRoutes;
use crate::apigw::api::Api;
use crate::apigw::auth::identity::Parts;
use crate::apigw::auth::lambda_authorizer::AuthRequest;
use crate::apigw::auth::{self, RouteGuard, Verdict};
use crate::apigw::events::parse_query;
use crate::aws::endpoints::WEBSOCKET_API;
use crate::aws::names;
use crate::aws::websocket as limits;
use crate::guard::Guard;
use crate::lambda::{FunctionResult, InvokeRequest, Lambda, Trigger};
use crate::server::Body;
use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// Bytes read from a connection at a time.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Idle and maximum-duration limits (API Gateway's, or shorter for tests).
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    pub idle_timeout: Duration,
    pub max_duration: Duration,
}

pub struct WebSocketGateway {
    connections: Arc<Connections>,
    lambda: Arc<Lambda>,
    /// Replaced by a live edit of `serverless.yml`; open connections route their next message by the new table.
    routes: ArcSwap<WsRoutes>,
    stage: String,
    limits: WsLimits,
    /// Keeps web pages away from `@connections` (the WebSocket API itself accepts any Origin, as API Gateway does).
    guard: Arc<Guard>,
}

impl WebSocketGateway {
    pub fn new(lambda: Arc<Lambda>, stage: &str, limits: WsLimits, routes: WsRoutes, guard: Arc<Guard>) -> Self {
        Self {
            connections: Arc::new(Connections::new(lambda.journal().clone())),
            lambda,
            routes: ArcSwap::from_pointee(routes),
            stage: stage.to_string(),
            limits,
            guard,
        }
    }

    /// Takes the routes of an edited `serverless.yml`; open connections stay open.
    pub fn apply(&self, routes: WsRoutes) {
        self.routes.store(Arc::new(routes));
    }

    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }

    /// Route key → function, sorted by route key.
    pub fn route_keys(&self) -> Vec<(String, String)> {
        self.routes.load().keys()
    }

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let path = request.uri().path().to_string();
        let local = crate::apigw::strip_stage(&path, &self.stage).unwrap_or(&path);
        if let Some(id) = local.strip_prefix("/@connections/") {
            if let Err(refusal) = self.guard.check(&request) {
                return management::access_denied(&refusal.message());
            }
            let id = id.to_string();
            return management::handle(&self.connections, request, &id).await;
        }
        if local != "/" && !local.is_empty() {
            return plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
        }
        if !is_upgrade(&request) {
            return plain(
                StatusCode::UPGRADE_REQUIRED,
                r#"{"message":"this is a WebSocket endpoint: connect with ws://"}"#,
            );
        }
        self.upgrade(request, peer).await
    }

    async fn upgrade(self: Arc<Self>, mut request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
            return plain(StatusCode::BAD_REQUEST, r#"{"message":"missing Sec-WebSocket-Key"}"#);
        };
        let headers = crate::apigw::header_pairs(request.headers());
        let user_agent = request.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(String::from);
        let query = parse_query(request.uri().query().unwrap_or_default());
        let host = request.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_string();
        let (connection, outbound) = Connection::new(connection_id(), peer.ip().to_string(), user_agent, headers);
        let mut accept_headers = Vec::new();
        let routes = self.routes.load_full();
        if let Some(route) = routes.get("$connect") {
            let request_id = uuid::Uuid::new_v4().to_string();
            let event = ws_events::connect_event(&connection, &query, &request_id, &self.api(&host));
            let event = match &route.guard {
                Some(guard) => match self.authorize(guard, &routes.region, &connection, &query, event).await {
                    Ok(event) => event,
                    Err(refused) => return refused,
                },
                None => event,
            };
            match self.invoke(&route.function, &event).await {
                Some(FunctionResult::Success(payload)) => {
                    let answer: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
                    let status = answer.get("statusCode").and_then(Value::as_u64).unwrap_or(200) as u16;
                    if !(200..300).contains(&status) {
                        tracing::info!(target: "websocket", "$connect refused the connection with {status}");
                        let body = answer.get("body").and_then(Value::as_str).unwrap_or_default().to_string();
                        return refuse(status, body);
                    }
                    if let Some(protocol) = answer.pointer("/headers/Sec-WebSocket-Protocol").and_then(Value::as_str) {
                        accept_headers.push(("sec-websocket-protocol", protocol.to_string()));
                    }
                }
                Some(FunctionResult::Streamed(streamed)) if !(200..300).contains(&streamed.status) => {
                    tracing::info!(target: "websocket", "$connect refused the connection with {}", streamed.status);
                    return refuse(streamed.status, String::from_utf8_lossy(&streamed.body).into_owned());
                }
                Some(FunctionResult::Streamed(_)) => {}
                _ => {
                    tracing::warn!(target: "websocket", "$connect failed; the connection is refused");
                    return refuse(500, r#"{"message": "Internal server error"}"#.into());
                }
            }
        }
        self.connections.register(connection.clone());
        let upgrade = hyper::upgrade::on(&mut request);
        let gateway = self.clone();
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    // A small read buffer (tungstenite's default is 128 KiB per connection): 3,000 open
                    // connections then cost about 30 MiB, not 400; frames are at most 32 KiB anyway.
                    let config = WebSocketConfig::default()
                        .read_buffer_size(READ_BUFFER_BYTES)
                        .max_frame_size(Some(limits::MAX_FRAME_BYTES))
                        .max_message_size(Some(limits::MAX_MESSAGE_BYTES));
                    let socket =
                        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    gateway.run(connection, socket, outbound, host).await;
                }
                Err(err) => {
                    tracing::warn!(target: "websocket", "the upgrade of {} failed: {err}", connection.id);
                    gateway.connections.remove(&connection.id);
                }
            }
        });
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut builder = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-accept", accept);
        for (name, value) in accept_headers {
            builder = builder.header(name, value);
        }
        builder.body(crate::server::full(Bytes::new())).expect("static parts are valid")
    }

    /// The life of one connection, until it ends one way or another; then `$disconnect`.
    async fn run<S>(
        self: Arc<Self>,
        connection: Arc<Connection>,
        socket: WebSocketStream<S>,
        mut outbound: tokio::sync::mpsc::Receiver<Outbound>,
        host: String,
    ) where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        tracing::info!(target: "websocket", "connected {} from {}", connection.id, connection.source_ip);
        let (mut sink, mut stream) = socket.split();
        let hard_deadline = tokio::time::Instant::now() + self.limits.max_duration;
        let (code, reason) = loop {
            let idle_deadline = tokio::time::Instant::now() + idle_left(&connection, self.limits.idle_timeout);
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        connection.touch();
                        let gateway = self.clone();
                        let (connection, host) = (connection.clone(), host.clone());
                        tokio::spawn(async move { gateway.route_message(&connection, text.as_str(), &host).await });
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break close(&mut sink, limits::CLOSE_UNSUPPORTED_DATA, "Binary frames are not supported").await;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break frame.map(|f| (u16::from(f.code), f.reason.to_string())).unwrap_or((limits::CLOSE_NO_STATUS, String::new()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => break close(&mut sink, limits::CLOSE_TOO_BIG, "Message too big").await,
                    Some(Err(_)) | None => break (limits::CLOSE_ABNORMAL, "Connection dropped".to_string()),
                },
                command = outbound.recv() => match command {
                    Some(Outbound::Message(data)) => {
                        let message = match String::from_utf8(data.to_vec()) {
                            Ok(text) => Message::text(text),
                            Err(_) => Message::binary(data),
                        };
                        if sink.send(message).await.is_err() {
                            break (limits::CLOSE_ABNORMAL, "Connection dropped".to_string());
                        }
                    }
                    Some(Outbound::Close { code, reason }) => break close(&mut sink, code, &reason).await,
                    None => break (limits::CLOSE_GOING_AWAY, "Going away".to_string()),
                },
                _ = tokio::time::sleep_until(idle_deadline) => {
                    if idle_left(&connection, self.limits.idle_timeout).is_zero() {
                        break close(&mut sink, limits::CLOSE_GOING_AWAY, "Going away (idle timeout)").await;
                    }
                }
                _ = tokio::time::sleep_until(hard_deadline) => {
                    break close(&mut sink, limits::CLOSE_GOING_AWAY, "Going away (maximum connection duration)").await;
                }
            }
        };
        self.connections.remove(&connection.id);
        tracing::info!(target: "websocket", "disconnected {} ({code} {reason})", connection.id);
        if let Some(route) = self.routes.load().get("$disconnect") {
            let request_id = uuid::Uuid::new_v4().to_string();
            let event = ws_events::disconnect_event(&connection, code, &reason, &request_id, &self.api(&host));
            self.invoke(&route.function, &event).await;
        }
    }

    /// Routes one text message and sends back what API Gateway would.
    async fn route_message(&self, connection: &Connection, text: &str, host: &str) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let Some((route_key, route)) = self.routes.load().select(text) else {
            let message = json!({"message": "Forbidden", "connectionId": connection.id, "requestId": request_id});
            let _ = self.connections.post(&connection.id, Bytes::from(message.to_string())).await;
            return;
        };
        let event = ws_events::message_event(connection, &route_key, text, &request_id, &self.api(host));
        let reply = match self.invoke(&route.function, &event).await {
            Some(FunctionResult::Success(payload)) if route.route_response => Some(route_response_body(&payload)),
            Some(FunctionResult::Streamed(streamed)) if route.route_response => {
                Some(String::from_utf8_lossy(&streamed.body).into_owned())
            }
            Some(FunctionResult::Success(_) | FunctionResult::Streamed(_)) => None,
            _ => Some(
                json!({"message": "Internal server error", "connectionId": connection.id, "requestId": request_id})
                    .to_string(),
            ),
        };
        if let Some(reply) = reply {
            let _ = self.connections.post(&connection.id, Bytes::from(reply)).await;
        }
    }

    /// Runs the `$connect` authorizer: an allowed connection keeps what it grants for all its events; a refused
    /// handshake gets API Gateway's status and body.
    async fn authorize(
        &self,
        guard: &RouteGuard,
        region: &str,
        connection: &Connection,
        query: &[(String, String)],
        mut event: Value,
    ) -> Result<Value, Response<Body>> {
        let arn = names::websocket_route_arn(region, WEBSOCKET_API.local_id, &self.stage, "$connect");
        let parts = Parts { headers: &connection.headers, query, context: &event["requestContext"] };
        let verdict =
            auth::check(guard, &self.lambda, &AuthRequest { parts, event: &event, arn: &arn, v1_event: None }).await;
        match verdict {
            Verdict::Allow(granted) => {
                connection.authorize(granted.context.clone());
                event["requestContext"]["authorizer"] = granted.context;
                Ok(event)
            }
            Verdict::Refuse(refusal) => {
                let reply = refusal.reply(Api::Rest);
                tracing::info!(target: "websocket", "the $connect authorizer refused a connection ({})", reply.status);
                Err(refuse(reply.status, String::from_utf8_lossy(&reply.body).into_owned()))
            }
        }
    }

    async fn invoke(&self, function: &str, event: &Value) -> Option<FunctionResult> {
        let payload = serde_json::to_vec(event).expect("events serialise");
        let context = &event["requestContext"];
        let trigger = Trigger::WebSocket {
            route: context["routeKey"].as_str().unwrap_or_default().to_string(),
            connection_id: context["connectionId"].as_str().unwrap_or_default().to_string(),
        };
        let response = self.lambda.invoke(function, InvokeRequest::new(payload).by(trigger)).await?;
        if let FunctionResult::Error { payload, .. } = &response.result {
            tracing::warn!(target: "websocket", "{function} failed: {}", String::from_utf8_lossy(payload));
        }
        Some(response.result)
    }

    fn api<'a>(&'a self, host: &'a str) -> WsApi<'a> {
        WsApi { api_id: WEBSOCKET_API.local_id, stage: &self.stage, domain_name: host }
    }
}

/// The body of a route response: a proxy-style `{"body": …}` answer's body, else the answer itself.
fn route_response_body(payload: &[u8]) -> String {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) if map.contains_key("statusCode") => match map.get("body") {
            Some(Value::String(body)) => body.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        _ => String::from_utf8_lossy(payload).into_owned(),
    }
}

async fn close<S>(sink: &mut S, code: u16, reason: &str) -> (u16, String)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.to_string().into() };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
    (code, reason.to_string())
}

fn idle_left(connection: &Connection, idle_timeout: Duration) -> Duration {
    let idle = (chrono::Utc::now() - connection.last_active()).to_std().unwrap_or_default();
    idle_timeout.saturating_sub(idle)
}

fn is_upgrade(request: &Request<Incoming>) -> bool {
    request.headers().get("upgrade").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn refuse(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN))
        .header("content-type", "application/json")
        .body(crate::server::full(Bytes::from(body)))
        .expect("static parts are valid")
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    refuse(status.as_u16(), body.to_string())
}

/// An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`).
fn connection_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random = uuid::Uuid::new_v4();
    let id: String =
        random.as_bytes().iter().take(15).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    format!("{id}=")
}
