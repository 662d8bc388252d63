//! The local AWS endpoint on the Lambda port (4002): routes each request to the service it is for, the Lambda
//! Invoke API (`/2015-03-31/functions/…`) or the SQS API (JSON with `X-Amz-Target: AmazonSQS.*`, or the query
//! protocol with `Action=…`), as the queue URLs `http://127.0.0.1:4002/000000000000/<name>` promise.

use crate::lambda::{invoke_api, Lambda};
use crate::server::{read_body, response, Body, BodyError};
use crate::sqs::error::SqsError;
use crate::sqs::query_protocol::Params;
use crate::sqs::Sqs;
use crate::sqs::{json_protocol, query_protocol, requests};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// Largest SQS request body accepted: a full batch of the largest messages, with room for the encoding.
const MAX_SQS_REQUEST_BYTES: usize = 12 * 1024 * 1024;

pub struct Endpoint {
    pub lambda: Arc<Lambda>,
    pub sqs: Arc<Sqs>,
}

impl Endpoint {
    pub async fn route(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        if invoke_api::matches(&request) {
            return invoke_api::handle(self.lambda.clone(), request).await;
        }
        let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(String::from);
        let path = request.uri().path().to_string();
        let query = request.uri().query().map(String::from);
        let body = match read_body(request.into_body(), MAX_SQS_REQUEST_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => return sqs_json_error(&SqsError::invalid("The request is too large")),
            Err(BodyError::Broken) => return sqs_json_error(&SqsError::invalid("The request body could not be read")),
        };
        if let Some(operation) = target.as_deref().and_then(|t| t.strip_prefix("AmazonSQS.")) {
            return match json_protocol::parse(operation, &body) {
                Ok(parsed) => match requests::execute(&self.sqs, parsed).await {
                    Ok(result) => response(
                        StatusCode::OK,
                        json_protocol::CONTENT_TYPE,
                        json_protocol::response_body(&result).to_string(),
                    ),
                    Err(err) => sqs_json_error(&err),
                },
                Err(err) => sqs_json_error(&err),
            };
        }
        let params = Params::parse(query.as_deref(), &body);
        let Some(action) = params.action().map(String::from) else {
            return invoke_api::error(
                StatusCode::NOT_FOUND,
                crate::aws::lambda::UNKNOWN_OPERATION,
                &format!("ftb-offline serves the Lambda Invoke API and SQS here; nothing answers {path} (no Action and no X-Amz-Target)"),
            );
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let path_queue = path.starts_with(&crate::aws::names::queue_path_prefix()).then(|| path.clone());
        let outcome = match query_protocol::parse(&params, path_queue) {
            Ok(parsed) => requests::execute(&self.sqs, parsed).await,
            Err(err) => Err(err),
        };
        match outcome {
            Ok(result) => response(
                StatusCode::OK,
                query_protocol::CONTENT_TYPE,
                query_protocol::response_body(&action, &result, &request_id),
            ),
            Err(err) => response(
                StatusCode::BAD_REQUEST,
                query_protocol::CONTENT_TYPE,
                query_protocol::error_body(&err, &request_id),
            ),
        }
    }
}

fn sqs_json_error(error: &SqsError) -> Response<Body> {
    let (body, query_error) = json_protocol::error_body(error);
    let mut reply = response(StatusCode::BAD_REQUEST, json_protocol::CONTENT_TYPE, body.to_string());
    if let Ok(value) = query_error.parse() {
        reply.headers_mut().insert("x-amzn-query-error", value);
    }
    reply
}
