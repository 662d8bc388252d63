//! The `@connections` management API (apigatewaymanagementapi 2018-11-29, rest-json), for the stock SDK client
//! and the AWS CLI: `POST` (PostToConnection), `GET` (GetConnection), `DELETE` (DeleteConnection, 204) on
//! `/@connections/{id}`, with or without the `/{stage}` prefix. Unknown or closed connections: 410 GoneException.

use super::connections::Connections;
use crate::aws::websocket as limits;
use crate::server::{read_body, Body, BodyError};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

pub async fn handle(connections: &Connections, request: Request<Incoming>, encoded_id: &str) -> Response<Body> {
    let id = percent_encoding::percent_decode_str(encoded_id).decode_utf8_lossy().into_owned();
    let method = request.method().clone();
    match method {
        Method::POST => {
            let data = match read_body(request.into_body(), limits::MAX_POST_BYTES).await {
                Ok(data) => data,
                Err(BodyError::TooLarge) => {
                    return error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        limits::PAYLOAD_TOO_LARGE,
                        &format!("Data must be at most {} bytes", limits::MAX_POST_BYTES),
                    )
                }
                Err(BodyError::Broken) => {
                    return error(StatusCode::BAD_REQUEST, "BadRequestException", "the request body could not be read")
                }
            };
            match connections.post(&id, data).await {
                Ok(()) => reply(StatusCode::OK, Bytes::new()),
                Err(_) => gone(&id),
            }
        }
        Method::GET => match connections.get(&id) {
            Ok(connection) => {
                let body = json!({
                    "connectedAt": connection.connected_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "lastActiveAt": connection.last_active().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "identity": { "sourceIp": connection.source_ip, "userAgent": connection.user_agent },
                });
                reply(StatusCode::OK, Bytes::from(body.to_string()))
            }
            Err(_) => gone(&id),
        },
        Method::DELETE => match connections.close(&id, limits::CLOSE_NORMAL, "").await {
            Ok(()) => reply(StatusCode::NO_CONTENT, Bytes::new()),
            Err(_) => gone(&id),
        },
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "@connections takes POST, GET or DELETE"),
    }
}

/// A request the guard refused: 403 `AccessDeniedException`, as API Gateway answers one IAM denies.
pub fn access_denied(message: &str) -> Response<Body> {
    error(StatusCode::FORBIDDEN, crate::aws::ACCESS_DENIED, message)
}

fn reply(status: StatusCode, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
        .body(crate::server::full(body))
        .expect("static parts are valid")
}

fn gone(id: &str) -> Response<Body> {
    error(StatusCode::GONE, limits::GONE, &format!("connection {id} is gone"))
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let mut response = reply(status, Bytes::from(json!({ "message": message }).to_string()));
    response.headers_mut().insert("x-amzn-errortype", error_type.parse().expect("error types are valid headers"));
    response
}
