//! The local AWS endpoint on the Lambda port (4002): routes each request to the service it is for, the Lambda
//! Invoke API (`/2015-03-31/functions/…`), the SNS API (the query protocol, told apart from SQS's by the
//! signature's service, else by its action or API version) or the SQS API (JSON with `X-Amz-Target:
//! AmazonSQS.*`, or the query protocol with `Action=…`), as the queue URLs
//! `http://127.0.0.1:4002/000000000000/<name>` promise.

use crate::aws::caller::Caller;
use crate::aws::query::{signed_service, Form};
use crate::guard::Guard;
use crate::lambda::{invoke_api, Lambda};
use crate::server::read_body;
use crate::server::Body;
use crate::sns::{self, Sns};
use crate::sqs::{self, Sqs};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

pub struct Endpoint {
    pub lambda: Arc<Lambda>,
    pub sqs: Arc<Sqs>,
    pub sns: Arc<Sns>,
    /// Refuses what a web page could send (a foreign `Host` or `Origin`) before any API sees it.
    pub guard: Arc<Guard>,
}

impl Endpoint {
    pub async fn route(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        if let Err(refusal) = self.guard.check(&request) {
            return refusal_response(&request, &refusal.message());
        }
        if invoke_api::matches(&request) {
            return invoke_api::handle(self.lambda.clone(), request).await;
        }
        let path = request.uri().path().to_string();
        let (head, body) = request.into_parts();
        let body = read_body(body, sqs::api::MAX_REQUEST_BYTES).await;
        // SQS's JSON requests carry X-Amz-Target and signed SQS requests name sqs: only the rest are read as a form
        // here, so an SQS request is never parsed twice.
        let signed = signed_service(&head.headers);
        let maybe_sns = !head.headers.contains_key("x-amz-target") && signed.as_deref() != Some("sqs");
        if let (Ok(bytes), true) = (&body, maybe_sns) {
            let form = Form::parse(head.uri.query(), bytes);
            if sns::api::is_sns(signed.as_deref(), &form) {
                let caller = Caller::of_request(&head.headers, head.uri.query(), self.sns.home());
                return sns::api::handle(&self.sns, &caller, &form);
            }
        }
        if let Some(answer) = sqs::api::handle(&self.sqs, &head, body).await {
            return answer;
        }
        invoke_api::error(
            StatusCode::NOT_FOUND,
            crate::aws::lambda::UNKNOWN_OPERATION,
            &format!("ftb-offline serves the Lambda Invoke API, SQS and SNS here; nothing answers {path} (no Action and no X-Amz-Target)"),
        )
    }
}

/// The AccessDenied error of the API a refused request was for, told apart as requests are routed: the Invoke API
/// by its path, SQS's JSON protocol by `X-Amz-Target`, else SQS's query protocol.
fn refusal_response(request: &Request<Incoming>, message: &str) -> Response<Body> {
    if invoke_api::matches(request) {
        invoke_api::error(StatusCode::FORBIDDEN, crate::aws::ACCESS_DENIED, message)
    } else {
        sqs::api::access_denied(request.headers().contains_key("x-amz-target"), message)
    }
}
