//! The Extensions API (2020-01-01) on each process's Runtime API listener, as Lambda serves it:
//! `POST /extension/register` (`Lambda-Extension-Name`, `{"events": [...]}`; answered with
//! `Lambda-Extension-Identifier` and the function's name, version and handler), `GET /extension/event/next`,
//! `POST /extension/init/error` and `/extension/exit/error` (`Lambda-Extension-Function-Error-Type`). Refusals
//! are 403 with `{"errorMessage", "errorType"}`. The extensions' state and the rules are [`super::extensions`].

use super::extensions::Refusal;
use super::handoff::{Completion, WorkerLink};
use super::result::error_document;
use crate::aws::lambda::VERSION_LATEST;
use crate::server::{self, json, read_body, Body};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json as j, Value};

const IDENTIFIER: &str = "lambda-extension-identifier";

/// Answers an Extensions API request (`segments` after `2020-01-01/extension`); `None` for another path.
pub async fn handle(
    link: &WorkerLink,
    handler: &str,
    request: Request<Incoming>,
    segments: &[&str],
) -> Option<Response<Body>> {
    Some(match (request.method(), segments) {
        (&Method::POST, ["register"]) => register(link, handler, request).await,
        (&Method::GET, ["event", "next"]) => next(link, &request).await,
        (&Method::POST, ["init", "error"]) => reported_error(link, request, true).await,
        (&Method::POST, ["exit", "error"]) => reported_error(link, request, false).await,
        _ => return None,
    })
}

async fn register(link: &WorkerLink, handler: &str, request: Request<Incoming>) -> Response<Body> {
    let name = header(&request, "lambda-extension-name").unwrap_or_default();
    let body = read_body(request.into_body(), 64 * 1024).await.unwrap_or_default();
    let events: Vec<String> = match serde_json::from_slice::<Value>(&body) {
        Ok(value) => value
            .get("events")
            .and_then(Value::as_array)
            .map(|events| events.iter().filter_map(|e| e.as_str().map(String::from)).collect())
            .unwrap_or_default(),
        Err(err) => return refuse(&Refusal { error_type: "InvalidRequestFormat", message: err.to_string() }),
    };
    match link.extensions.register(&name, &events) {
        Ok(extension) => {
            tracing::info!(target: "lambda", "{} extension {name} registered, subscribed to {events:?}", link.function);
            let mut reply = json(
                StatusCode::OK,
                &j!({ "functionName": link.function_name, "functionVersion": VERSION_LATEST, "handler": handler }),
            );
            reply.headers_mut().insert(IDENTIFIER, extension.id.parse().expect("uuids are valid headers"));
            reply
        }
        Err(refusal) => {
            tracing::warn!(target: "lambda", "{} extension {name} not registered: {}", link.function, refusal.message);
            refuse(&refusal)
        }
    }
}

/// `GET /extension/event/next`: the extension's next event (`INVOKE`), when it comes.
async fn next(link: &WorkerLink, request: &Request<Incoming>) -> Response<Body> {
    let extension = match known_extension(link, request) {
        Ok(extension) => extension,
        Err(refusal) => return refuse(&refusal),
    };
    match link.extensions.next(&extension).await {
        Some(event) => {
            let mut reply = json(StatusCode::OK, &event);
            reply.headers_mut().insert(IDENTIFIER, extension.id.parse().expect("uuids are valid headers"));
            reply
        }
        None => server::response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            error_document("ShuttingDown", "the execution environment is being stopped"),
        ),
    }
}

/// `POST /extension/init/error` (init fails with it) or `/extension/exit/error` (the invocation in progress
/// fails with it, and the environment is not reused).
async fn reported_error(link: &WorkerLink, request: Request<Incoming>, init: bool) -> Response<Body> {
    let extension = match known_extension(link, &request) {
        Ok(extension) => extension,
        Err(refusal) => return refuse(&refusal),
    };
    let error_type =
        header(&request, "lambda-extension-function-error-type").unwrap_or_else(|| "Extension.Unknown".into());
    let body = read_body(request.into_body(), 1024 * 1024).await.unwrap_or_default();
    let payload = match serde_json::from_slice::<Value>(&body) {
        Ok(_) => body,
        Err(_) => error_document(&error_type, &format!("extension {} reported {error_type}", extension.name)),
    };
    tracing::warn!(target: "lambda", "{} extension {} reported {error_type}", link.function, extension.name);
    let completion = if init {
        Completion::InitError { error_type, payload }
    } else {
        Completion::Exited(format!("extension {} exited with {error_type}", extension.name))
    };
    link.complete_any(completion);
    json(StatusCode::ACCEPTED, &j!({"status": "OK"}))
}

pub(super) fn known_extension(
    link: &WorkerLink,
    request: &Request<Incoming>,
) -> Result<std::sync::Arc<super::extensions::Extension>, Refusal> {
    let Some(id) = header(request, IDENTIFIER) else {
        return Err(Refusal {
            error_type: "Extension.MissingExtensionIdentifier",
            message: "Missing Lambda-Extension-Identifier header".into(),
        });
    };
    link.extensions.find(&id).ok_or_else(|| Refusal {
        error_type: "Extension.UnknownExtensionIdentifier",
        message: format!("Unknown extension {id}"),
    })
}

pub(super) fn refuse(refusal: &Refusal) -> Response<Body> {
    json(StatusCode::FORBIDDEN, &j!({ "errorMessage": refusal.message, "errorType": refusal.error_type }))
}

fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from)
}
