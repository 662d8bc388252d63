//! The SNS API over HTTP, as the Lambda port serves it: a query-protocol request is parsed, run by
//! [`requests::execute`] and answered in XML, errors included, with `x-amzn-RequestId`.

use super::error::SnsError;
use super::query_protocol;
use super::requests;
use super::service::Sns;
use crate::aws::caller::Caller;
use crate::aws::query::Form;
use crate::server::{response, Body};
use hyper::{Response, StatusCode};

/// Whether a request is for SNS: signed for `sns`, or a query request naming an SNS action (or SNS's API
/// version). SQS and SNS share the port, and both speak the query protocol.
pub fn is_sns(signed_service: Option<&str>, form: &Form) -> bool {
    match signed_service {
        Some(service) => service == "sns",
        None => {
            form.get("Version").as_deref() == Some(crate::aws::sns::API_VERSION)
                || form.action().is_some_and(|action| query_protocol::ACTIONS.contains(&action))
        }
    }
}

/// Answers an SNS request.
pub fn handle(sns: &Sns, caller: &Caller, form: &Form) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let action = form.action().unwrap_or_default().to_string();
    let outcome = query_protocol::parse(form).and_then(|request| requests::execute(sns, caller, request));
    let (status, body) = match outcome {
        Ok(result) => (StatusCode::OK, query_protocol::response_body(&action, &result, &request_id)),
        Err(error) => (status_of(&error), query_protocol::error_body(&error, &request_id)),
    };
    let mut reply = response(status, query_protocol::CONTENT_TYPE, body);
    if let Ok(value) = request_id.parse() {
        reply.headers_mut().insert("x-amzn-requestid", value);
    }
    reply
}

fn status_of(error: &SnsError) -> StatusCode {
    StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST)
}
