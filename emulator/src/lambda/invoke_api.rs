//! The Lambda Invoke API (2015-03-31) wire protocol, for stock SDKs and the AWS CLI:
//! `POST /2015-03-31/functions/{name}/invocations` with `X-Amz-Invocation-Type` (RequestResponse, Event,
//! DryRun), `X-Amz-Log-Type: Tail`, `X-Amz-Client-Context`, and AWS-shaped errors (`x-amzn-ErrorType`); and the
//! same request to InvokeWithResponseStream, answered by [`super::stream_api`]. Parsing and response shaping live
//! here; running the function is [`super::Lambda::invoke`].

use super::logs::tail_base64;
use super::{FunctionResult, InvokeRequest, Lambda};
use crate::aws::lambda as aws;
use crate::server::{read_body, Body, BodyError};
use base64::Engine;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;
use std::sync::Arc;

/// `X-Amz-Client-Context` may hold at most 3583 bytes of base64 (Invoke API, ClientContext).
const MAX_CLIENT_CONTEXT_BYTES: usize = 3583;

/// Whether a request on the Lambda port is for this API (Invoke, or InvokeWithResponseStream).
pub fn matches(request: &Request<Incoming>) -> bool {
    let path = request.uri().path();
    path.starts_with("/2015-03-31/functions") || path.starts_with("/2021-11-15/functions")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

pub async fn handle(lambda: Arc<Lambda>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (name, streaming) = match segments.as_slice() {
        ["2015-03-31", "functions", name, "invocations"] => (*name, false),
        ["2021-11-15", "functions", name, "response-streaming-invocations"] => (*name, true),
        _ => return error(StatusCode::NOT_FOUND, aws::UNKNOWN_OPERATION, &format!("ftb-offline does not emulate {} {path}; it serves Invoke (POST /2015-03-31/functions/{{name}}/invocations) and InvokeWithResponseStream (POST /2021-11-15/functions/{{name}}/response-streaming-invocations)", request.method())),
    };
    if request.method() != hyper::Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, aws::UNKNOWN_OPERATION, "Invoke takes POST");
    }
    let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy().into_owned();
    let qualifier = query_param(request.uri().query(), "Qualifier");
    let Some(pool) = lambda.find(&name).filter(|_| qualifier.as_deref().is_none_or(|q| q == aws::VERSION_LATEST))
    else {
        let arn = if name.starts_with("arn:") { name.clone() } else { crate::aws::names::lambda_arn("*", &name) };
        let arn = qualifier.map_or(arn.clone(), |q| format!("{arn}:{q}"));
        return error(StatusCode::NOT_FOUND, aws::RESOURCE_NOT_FOUND, &format!("Function not found: {arn}"));
    };
    let key = pool.spec.key.clone();
    let headers = request.headers();
    let invocation_type = match header(headers, "x-amz-invocation-type").as_deref() {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") if !streaming => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            let allowed = if streaming { "[RequestResponse, DryRun]" } else { "[Event, RequestResponse, DryRun]" };
            return error(StatusCode::BAD_REQUEST, aws::INVALID_PARAMETER_VALUE, &format!("1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: {allowed}"));
        }
    };
    let tail = header(headers, "x-amz-log-type").as_deref() == Some("Tail");
    let client_context = match header(headers, "x-amz-client-context").map(|c| decode_client_context(&c)).transpose() {
        Ok(context) => context,
        Err(message) => return error(StatusCode::BAD_REQUEST, aws::INVALID_REQUEST_CONTENT, &message),
    };
    let limit = if invocation_type == InvocationType::Event {
        aws::MAX_ASYNC_PAYLOAD_BYTES
    } else {
        aws::MAX_SYNC_PAYLOAD_BYTES
    };
    let payload = match read_body(request.into_body(), limit).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                aws::REQUEST_TOO_LARGE,
                &format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
            )
        }
        Err(BodyError::Broken) => {
            return error(StatusCode::BAD_REQUEST, aws::INVALID_REQUEST_CONTENT, "the request body could not be read")
        }
    };
    let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
    if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return error(
            StatusCode::BAD_REQUEST,
            aws::INVALID_REQUEST_CONTENT,
            &format!("Could not parse request body into json: {err}"),
        );
    }
    let invoke = InvokeRequest { payload, client_context, ..InvokeRequest::default() };
    match invocation_type {
        InvocationType::DryRun => {
            with_request_id(StatusCode::NO_CONTENT, &uuid::Uuid::new_v4().to_string(), Bytes::new())
        }
        InvocationType::Event => match lambda.invoke_event(&key, invoke) {
            Some(request_id) => with_request_id(StatusCode::ACCEPTED, &request_id, Bytes::new()),
            None => error(StatusCode::NOT_FOUND, aws::RESOURCE_NOT_FOUND, &format!("Function not found: {name}")),
        },
        InvocationType::RequestResponse if streaming => {
            super::stream_api::respond(&lambda, &key, invoke, tail).await.unwrap_or_else(|| {
                error(StatusCode::NOT_FOUND, aws::RESOURCE_NOT_FOUND, &format!("Function not found: {name}"))
            })
        }
        InvocationType::RequestResponse => {
            let Some(response) = lambda.invoke(&key, invoke).await else {
                return error(StatusCode::NOT_FOUND, aws::RESOURCE_NOT_FOUND, &format!("Function not found: {name}"));
            };
            let (body, function_error) = match response.result {
                FunctionResult::Success(body) => (body, None),
                // The streamed body as the function wrote it after its prelude.
                FunctionResult::Streamed(streamed) => (streamed.body, None),
                // Never here: `invoke` reads a stream whole.
                FunctionResult::Streaming(_) => (Bytes::new(), None),
                FunctionResult::Error { payload, .. } => (payload, Some("Unhandled")),
            };
            let mut reply = with_request_id(StatusCode::OK, &response.request_id, body);
            let headers = reply.headers_mut();
            headers.insert("x-amz-executed-version", aws::VERSION_LATEST.parse().expect("valid header"));
            if let Some(kind) = function_error {
                headers.insert("x-amz-function-error", kind.parse().expect("valid header"));
            }
            if tail {
                headers
                    .insert("x-amz-log-result", tail_base64(&response.log).parse().expect("base64 is a valid header"));
            }
            reply
        }
    }
}

/// `X-Amz-Client-Context` is base64 of a JSON object; the runtime receives the JSON.
fn decode_client_context(encoded: &str) -> Result<String, String> {
    if encoded.len() > MAX_CLIENT_CONTEXT_BYTES {
        return Err(format!("Client context must be at most {MAX_CLIENT_CONTEXT_BYTES} bytes of base64"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "Client context must be a valid Base64-encoded JSON object.".to_string())?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(_)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        _ => Err("Client context must be a valid Base64-encoded JSON object.".to_string()),
    }
}

fn with_request_id(status: StatusCode, request_id: &str, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-requestid", request_id)
        .body(crate::server::full(body))
        .expect("static parts are valid")
}

/// An Invoke API error as Lambda sends it: the type in `x-amzn-ErrorType`, `{"Type", "message"}` in the body.
pub fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let body = json!({ "Type": "User", "message": message });
    let mut response = with_request_id(status, &uuid::Uuid::new_v4().to_string(), Bytes::from(body.to_string()));
    response.headers_mut().insert("x-amzn-errortype", error_type.parse().expect("error types are valid headers"));
    response
}

fn header(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(String::from)
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
}
