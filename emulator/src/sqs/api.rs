//! The SQS API over HTTP, as the Lambda port serves it: a request in either wire protocol (JSON with
//! `X-Amz-Target: AmazonSQS.*`, or the query protocol with `Action=…`) is parsed, run by [`requests::execute`]
//! and answered in the same protocol, errors included.

use super::error::{ErrorCode, SqsError};
use super::query_protocol::Params;
use super::requests::{self, Request};
use super::service::Sqs;
use super::{json_protocol, query_protocol};
use crate::server::{read_body, response, Body, BodyError};
use hyper::body::Incoming;
use hyper::{Response, StatusCode};

/// Largest SQS request body accepted: a full batch of the largest messages, with room for the encoding.
const MAX_REQUEST_BYTES: usize = 12 * 1024 * 1024;

/// Answers an SQS request. `None` when the request is in neither protocol (no `X-Amz-Target: AmazonSQS.*` and
/// no `Action`): it is for no SQS operation.
pub async fn handle(sqs: &Sqs, request: hyper::Request<Incoming>) -> Option<Response<Body>> {
    let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(String::from);
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(String::from);
    let body = match read_body(request.into_body(), MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Some(json_error(&SqsError::invalid("The request is too large"))),
        Err(BodyError::Broken) => return Some(json_error(&SqsError::invalid("The request body could not be read"))),
    };
    if let Some(operation) = target.as_deref().and_then(json_protocol::operation) {
        return Some(json_operation(sqs, operation, &body).await);
    }
    let params = Params::parse(query.as_deref(), &body);
    let action = params.action()?.to_string();
    let path_queue = path.starts_with(&crate::aws::names::queue_path_prefix()).then_some(path);
    Some(query_action(sqs, &action, &params, path_queue).await)
}

/// An operation in the JSON protocol.
async fn json_operation(sqs: &Sqs, operation: &str, body: &[u8]) -> Response<Body> {
    match execute(sqs, json_protocol::parse(operation, body)).await {
        Ok(result) => {
            response(StatusCode::OK, json_protocol::CONTENT_TYPE, json_protocol::response_body(&result).to_string())
        }
        Err(err) => json_error(&err),
    }
}

/// A request the guard refused, answered in the protocol it used (`json`: it carried `X-Amz-Target`) with 403
/// and AWS's common `AccessDenied` error.
pub fn access_denied(json: bool, message: &str) -> Response<Body> {
    let error = SqsError::new(ErrorCode::AccessDenied, message);
    if json {
        return json_error_with(StatusCode::FORBIDDEN, &error);
    }
    let body = query_protocol::error_body(&error, &uuid::Uuid::new_v4().to_string());
    response(StatusCode::FORBIDDEN, query_protocol::CONTENT_TYPE, body)
}

fn json_error(error: &SqsError) -> Response<Body> {
    json_error_with(StatusCode::BAD_REQUEST, error)
}

fn json_error_with(status: StatusCode, error: &SqsError) -> Response<Body> {
    let (body, query_error) = json_protocol::error_body(error);
    let mut reply = response(status, json_protocol::CONTENT_TYPE, body.to_string());
    if let Ok(value) = query_error.parse() {
        reply.headers_mut().insert(json_protocol::QUERY_ERROR_HEADER, value);
    }
    reply
}

/// An action in the query protocol; `path_queue` is the queue URL when the path names one.
async fn query_action(sqs: &Sqs, action: &str, params: &Params, path_queue: Option<String>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    match execute(sqs, query_protocol::parse(params, path_queue)).await {
        Ok(result) => response(
            StatusCode::OK,
            query_protocol::CONTENT_TYPE,
            query_protocol::response_body(action, &result, &request_id),
        ),
        Err(err) => response(
            StatusCode::BAD_REQUEST,
            query_protocol::CONTENT_TYPE,
            query_protocol::error_body(&err, &request_id),
        ),
    }
}

/// Runs a request that parsed; one that did not is answered with its error.
async fn execute(sqs: &Sqs, parsed: Result<Request, SqsError>) -> Result<requests::Response, SqsError> {
    requests::execute(sqs, parsed?).await
}
