//! The local AWS endpoint on the Lambda port (4002): routes each request to the service it is for.
//! Today that is the Lambda Invoke API; the SQS API joins it on the same port, as the queue URLs promise.

use crate::lambda::{invoke_api, Lambda};
use crate::server::Body;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

pub async fn route(lambda: Arc<Lambda>, request: Request<Incoming>) -> Response<Body> {
    if invoke_api::matches(&request) {
        return invoke_api::handle(lambda, request).await;
    }
    let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let message = if target.starts_with("AmazonSQS") {
        "the SQS API is not available in this version of ftb-offline yet".to_string()
    } else {
        format!(
            "ftb-offline serves the Lambda Invoke API here; nothing answers {} {}",
            request.method(),
            request.uri().path()
        )
    };
    invoke_api::error(StatusCode::NOT_FOUND, crate::aws::lambda::UNKNOWN_OPERATION, &message)
}
