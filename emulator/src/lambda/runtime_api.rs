//! The Lambda Runtime API (2018-06-01) that handler processes poll, exactly as `lambda_runtime` expects it:
//! `GET invocation/next` (long poll), `POST invocation/{id}/response`, `POST invocation/{id}/error`,
//! `POST init/error`, with Lambda's headers; and, on the same listener, the Extensions API
//! ([`super::extensions_api`]).
//!
//! Each process gets its own loopback listener, and `AWS_LAMBDA_RUNTIME_API` is a bare `127.0.0.1:PORT` as on
//! AWS (runtimes parse it in different ways; none of them accept more). The listener knows its process.

use super::handoff::{Completion, WorkerLink};
use super::result::{error_document, ResponseStream, StreamedResponse, HTTP_INTEGRATION_RESPONSE};
use crate::aws::lambda::{
    ERROR_EXIT, ERROR_INVALID_RESPONSE_MODE, ERROR_RESPONSE_TOO_LARGE, MAX_STREAMED_RESPONSE_BYTES,
    MAX_SYNC_PAYLOAD_BYTES,
};
use crate::server::{self, read_body, Body, BodyError, ShutdownTrigger};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderName, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json as j, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

// The headers of `invocation/next`, named once (parsing a header name from a string on every invocation showed
// in the profile).
const REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
const DEADLINE_MS: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
const FUNCTION_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
const TRACE_ID: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
const CLIENT_CONTEXT: HeaderName = HeaderName::from_static("lambda-runtime-client-context");
const COGNITO_IDENTITY: HeaderName = HeaderName::from_static("lambda-runtime-cognito-identity");

/// The Runtime API of one function's processes.
pub struct RuntimeApi {
    /// For `Lambda-Runtime-Invoked-Function-Arn`.
    arn: String,
    /// The function's handler, as the Extensions API reports it.
    handler: String,
    /// For `Lambda-Runtime-Deadline-Ms`; `None` with `noTimeout`.
    timeout: Option<std::time::Duration>,
}

impl RuntimeApi {
    pub fn new(arn: String, timeout: Option<std::time::Duration>, handler: String) -> Arc<Self> {
        Arc::new(Self { arn, handler, timeout })
    }

    /// Serves the Runtime API for one process until the returned trigger fires or is dropped. Returns the
    /// value for the process's `AWS_LAMBDA_RUNTIME_API`.
    pub async fn attach(self: &Arc<Self>, link: Arc<WorkerLink>) -> std::io::Result<(String, ShutdownTrigger)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?.to_string();
        let (trigger, shutdown) = server::shutdown_pair();
        let api = self.clone();
        server::serve_own_processes(listener, move |request, _| api.clone().handle(link.clone(), request), shutdown);
        Ok((address, trigger))
    }

    async fn handle(self: Arc<Self>, link: Arc<WorkerLink>, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path().to_string();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if let ["2020-01-01", "extension", rest @ ..] = segments.as_slice() {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            if let Some(answer) = super::extensions_api::handle(&link, &self.handler, request, &rest).await {
                return answer;
            }
            return runtime_error(StatusCode::NOT_FOUND, "UnknownPath", &format!("no Extensions API route {path}"));
        }
        match (request.method(), segments.as_slice()) {
            (&Method::PUT, ["2022-07-01", "telemetry"]) => {
                super::telemetry_api::subscribe(&link, request, super::telemetry::Schema::Telemetry).await
            }
            (&Method::PUT, ["2020-08-15", "logs"]) => {
                super::telemetry_api::subscribe(&link, request, super::telemetry::Schema::Logs).await
            }
            (&Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => self.next(&link).await,
            (&Method::POST, ["2018-06-01", "runtime", "invocation", id, "response"]) => {
                let id = id.to_string();
                response(&link, &id, request).await
            }
            (&Method::POST, ["2018-06-01", "runtime", "invocation", id, "error"]) => {
                let id = id.to_string();
                let (error_type, payload) = posted_error(request).await;
                accepted(link.complete(&id, Completion::Error { error_type, payload }))
            }
            (&Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
                let (error_type, payload) = posted_error(request).await;
                tracing::warn!(target: "lambda", "{} init error: {}", link.function, String::from_utf8_lossy(&payload));
                link.complete_any(Completion::InitError { error_type, payload });
                accepted(true)
            }
            _ => runtime_error(
                StatusCode::NOT_FOUND,
                "UnknownPath",
                &format!("no Runtime API route {} {path}", request.method()),
            ),
        }
    }

    async fn next(&self, link: &WorkerLink) -> Response<Body> {
        let Some(delivery) = link.next_delivery().await else {
            return runtime_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ShuttingDown",
                "the execution environment is being stopped",
            );
        };
        let deadline = SystemTime::now() + self.timeout.unwrap_or(std::time::Duration::from_secs(365 * 24 * 3600));
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        delivery.pick_up.mark();
        link.extensions.invoke(|| {
            j!({
                "eventType": "INVOKE",
                "deadlineMs": deadline_ms,
                "requestId": delivery.request_id,
                "invokedFunctionArn": self.arn,
                "tracing": { "type": "X-Amzn-Trace-Id", "value": delivery.trace_id },
            })
        });
        let mut builder = Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .header(REQUEST_ID, &delivery.request_id)
            .header(DEADLINE_MS, deadline_ms.to_string())
            .header(FUNCTION_ARN, &self.arn)
            .header(TRACE_ID, &delivery.trace_id);
        if let Some(context) = &delivery.client_context {
            builder = builder.header(CLIENT_CONTEXT, context);
        }
        if let Some(identity) = &delivery.cognito_identity {
            builder = builder.header(COGNITO_IDENTITY, identity);
        }
        builder.body(server::full(delivery.payload)).unwrap_or_else(|_| {
            runtime_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InvalidHeader",
                "a client context or identity header was not valid",
            )
        })
    }
}

/// `POST invocation/{id}/response`, buffered or streamed (`Lambda-Runtime-Function-Response-Mode: streaming`).
async fn response(link: &WorkerLink, request_id: &str, request: Request<Incoming>) -> Response<Body> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
    let content_type = header("content-type").unwrap_or_default();
    match header("lambda-runtime-function-response-mode").as_deref() {
        Some("streaming") => streamed_response(link, request_id, &content_type, request.into_body()).await,
        // Lambda refuses any other mode (the Runtime API's `Runtime.InvalidResponseModeHeader`).
        Some(other) => {
            let message = format!("Invalid Lambda-Runtime-Function-Response-Mode: {other} (expected streaming)");
            let payload = error_document(ERROR_INVALID_RESPONSE_MODE, &message);
            link.complete(request_id, Completion::Error { error_type: ERROR_INVALID_RESPONSE_MODE.into(), payload });
            runtime_error(StatusCode::BAD_REQUEST, ERROR_INVALID_RESPONSE_MODE, &message)
        }
        None => buffered_response(link, request_id, &content_type, request.into_body()).await,
    }
}

/// A whole response: the invocation ends when it has arrived. One over Lambda's limit is refused (413) once the
/// runtime has finished sending it (read and dropped, up to [`DRAIN_LIMIT`]), so its connection is not cut under
/// it mid-upload, which a runtime can take for a fatal error.
async fn buffered_response(
    link: &WorkerLink,
    request_id: &str,
    content_type: &str,
    mut body: Incoming,
) -> Response<Body> {
    let mut kept = Vec::new();
    let mut received = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Ok(data) = frame.into_data() else { continue };
        received += data.len();
        if received <= MAX_SYNC_PAYLOAD_BYTES {
            kept.extend_from_slice(&data);
        } else if received > DRAIN_LIMIT {
            break;
        }
    }
    if received > MAX_SYNC_PAYLOAD_BYTES {
        let message =
            format!("Response payload size exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD_BYTES} bytes).");
        let payload = error_document(ERROR_RESPONSE_TOO_LARGE, &message);
        link.complete(request_id, Completion::Error { error_type: ERROR_RESPONSE_TOO_LARGE.into(), payload });
        return runtime_error(StatusCode::PAYLOAD_TOO_LARGE, ERROR_RESPONSE_TOO_LARGE, &message);
    }
    let body = Bytes::from(kept);
    let completion = if content_type == HTTP_INTEGRATION_RESPONSE {
        Completion::Streamed(StreamedResponse::parse(body))
    } else {
        Completion::Response(body)
    };
    accepted(link.complete(request_id, completion))
}

/// How much of an oversized response is read (and dropped) before the connection is closed after all.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// A streamed response: the invocation's result is the stream itself, handed on at once, and each chunk follows
/// as the runtime writes it. An error the runtime reports in the trailers ends the stream with that error.
async fn streamed_response(
    link: &WorkerLink,
    request_id: &str,
    content_type: &str,
    mut body: Incoming,
) -> Response<Body> {
    let (chunks, stream) = ResponseStream::channel(content_type);
    if !link.complete(request_id, Completion::Streaming(stream)) {
        return accepted(false);
    }
    let mut sent = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            let _ = chunks.send(Err(stream_error(ERROR_EXIT, "the runtime's response stream broke off"))).await;
            break;
        };
        let frame = match frame.into_data() {
            Ok(data) => {
                sent += data.len();
                if sent > MAX_STREAMED_RESPONSE_BYTES {
                    let message = format!("Response payload size exceeded maximum allowed payload size ({MAX_STREAMED_RESPONSE_BYTES} bytes).");
                    let _ = chunks.send(Err(stream_error(ERROR_RESPONSE_TOO_LARGE, &message))).await;
                    return runtime_error(StatusCode::PAYLOAD_TOO_LARGE, ERROR_RESPONSE_TOO_LARGE, &message);
                }
                // A reader that went away stops nothing: the runtime finishes writing, as on Lambda.
                let _ = chunks.send(Ok(data)).await;
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(trailers) = frame.into_trailers() {
            if let Some(error) = trailer_error(&trailers) {
                let _ = chunks.send(Err(error)).await;
            }
        }
    }
    accepted(true)
}

/// The error a runtime reports at the end of a stream, in `Lambda-Runtime-Function-Error-Type` and `-Body`
/// (base64 of the error document).
fn trailer_error(trailers: &hyper::HeaderMap) -> Option<(String, Bytes)> {
    let error_type = trailers.get("lambda-runtime-function-error-type")?.to_str().unwrap_or("Unhandled").to_string();
    let payload = trailers
        .get("lambda-runtime-function-error-body")
        .and_then(|v| v.to_str().ok())
        .and_then(|b64| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok())
        .map(Bytes::from)
        .unwrap_or_else(|| error_document(&error_type, "the streamed response failed"));
    Some((error_type, payload))
}

fn stream_error(error_type: &str, message: &str) -> (String, Bytes) {
    (error_type.to_string(), error_document(error_type, message))
}

/// The error type and document a runtime posts to `/error` or `/init/error`.
async fn posted_error(request: Request<Incoming>) -> (String, Bytes) {
    let header_type =
        request.headers().get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(String::from);
    let body = read_body(request.into_body(), MAX_SYNC_PAYLOAD_BYTES).await.unwrap_or_else(|e| match e {
        BodyError::TooLarge | BodyError::Broken => Bytes::new(),
    });
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let body_type = parsed.as_ref().and_then(|v| v.get("errorType")).and_then(Value::as_str).map(String::from);
    let error_type = body_type.or(header_type).unwrap_or_else(|| "Unhandled".to_string());
    let payload = match parsed {
        Some(_) => body,
        None => error_document(&error_type, &String::from_utf8_lossy(&body)),
    };
    (error_type, payload)
}

fn accepted(known_request: bool) -> Response<Body> {
    if known_request {
        server::response(StatusCode::ACCEPTED, "application/json", Bytes::from_static(br#"{"status":"OK"}"#))
    } else {
        runtime_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "this request id is not the invocation in progress (it ended or timed out)",
        )
    }
}

/// The Runtime API's own errors carry Lambda's error document too.
fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    server::response(status, "application/json", error_document(error_type, message))
}
