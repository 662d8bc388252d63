//! The SQS API over HTTP, as the Lambda port serves it: a request in either wire protocol (JSON with
//! `X-Amz-Target: AmazonSQS.*`, or the query protocol with `Action=…`) is parsed, run by [`requests::execute`]
//! and answered in the same protocol, errors included.

use super::error::{ErrorCode, SqsError};
use super::query_protocol::Params;
use super::requests::{self, Request};
use super::service::Sqs;
use super::{json_protocol, query_protocol};
use crate::aws::caller::Caller;
use crate::aws::names::parse_queue_url;
use crate::server::{response, Body, BodyError};
use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};

/// Largest SQS request body accepted: a full batch of the largest messages, with room for the encoding.
pub const MAX_REQUEST_BYTES: usize = 12 * 1024 * 1024;

/// Answers an SQS request. `None` when the request is in neither protocol (no `X-Amz-Target: AmazonSQS.*` and
/// no `Action`): it is for no SQS operation. Every answer carries `x-amzn-RequestId`, which SDKs report as the
/// request id (in the query protocol also as `<RequestId>`).
/// `body` is the request's body as read (at most [`MAX_REQUEST_BYTES`]).
pub async fn handle(sqs: &Sqs, head: &Parts, body: Result<Bytes, BodyError>) -> Option<Response<Body>> {
    let target = head.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(String::from);
    let path = head.uri.path().to_string();
    let query = head.uri.query().map(String::from);
    let caller = Caller::of_request(&head.headers, query.as_deref(), sqs.home());
    let trace = head.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(String::from);
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match body {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return Some(json_error(&SqsError::invalid("The request is too large"), &request_id))
        }
        Err(BodyError::Broken) => {
            return Some(json_error(&SqsError::invalid("The request body could not be read"), &request_id))
        }
    };
    if let Some(operation) = target.as_deref().and_then(json_protocol::operation) {
        let parsed = json_protocol::parse(operation, &body).map(|r| r.traced(trace.as_deref()));
        return Some(match execute(sqs, &caller, parsed).await {
            Ok(result) => with_request_id(
                response(
                    StatusCode::OK,
                    json_protocol::CONTENT_TYPE,
                    json_protocol::response_body(&result).to_string(),
                ),
                &request_id,
            ),
            Err(err) => json_error(&err, &request_id),
        });
    }
    let params = Params::parse(query.as_deref(), &body);
    let action = params.action()?.to_string();
    let path_queue = parse_queue_url(&path).is_some().then_some(path);
    let parsed = query_protocol::parse(&params, path_queue).map(|r| r.traced(trace.as_deref()));
    let (status, body) = match execute(sqs, &caller, parsed).await {
        Ok(result) => (StatusCode::OK, query_protocol::response_body(&action, &result, &request_id)),
        Err(err) => (status_of(&err), query_protocol::error_body(&err, &request_id)),
    };
    Some(with_request_id(response(status, query_protocol::CONTENT_TYPE, body), &request_id))
}

/// A request the guard refused, answered in the protocol it used (`json`: it carried `X-Amz-Target`) with 403
/// and AWS's common `AccessDenied` error.
pub fn access_denied(json: bool, message: &str) -> Response<Body> {
    let error = SqsError::new(ErrorCode::AccessDenied, message);
    let request_id = uuid::Uuid::new_v4().to_string();
    if json {
        return json_error(&error, &request_id);
    }
    let body = query_protocol::error_body(&error, &request_id);
    with_request_id(response(status_of(&error), query_protocol::CONTENT_TYPE, body), &request_id)
}

fn json_error(error: &SqsError, request_id: &str) -> Response<Body> {
    let (body, query_error) = json_protocol::error_body(error);
    let mut reply = response(status_of(error), json_protocol::CONTENT_TYPE, body.to_string());
    if let Ok(value) = query_error.parse() {
        reply.headers_mut().insert(json_protocol::QUERY_ERROR_HEADER, value);
    }
    with_request_id(reply, request_id)
}

fn status_of(error: &SqsError) -> StatusCode {
    StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

fn with_request_id(mut reply: Response<Body>, request_id: &str) -> Response<Body> {
    if let Ok(value) = request_id.parse() {
        reply.headers_mut().insert("x-amzn-requestid", value);
    }
    reply
}

/// Runs a request that parsed; one that did not is answered with its error.
async fn execute(
    sqs: &Sqs,
    caller: &Caller,
    parsed: Result<Request, SqsError>,
) -> Result<requests::Response, SqsError> {
    requests::execute(sqs, caller, parsed?).await
}
