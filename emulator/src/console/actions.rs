//! What the console does (`POST /api/...`), each through its service's own API, as an SDK call would: invoke a
//! function; send to, purge and redrive a queue (StartMessageMoveTask); post to and disconnect a WebSocket
//! client; put and delete a table's items. Errors come back as the service words them.

use super::{error, Console};
use crate::journal::Trigger;
use crate::lambda::{FunctionResult, InvokeRequest};
use crate::server::{json, Body};
use crate::sqs::message::NewMessage;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

pub async fn answer(console: &Console, path: &[&str], body: &Bytes) -> Response<Body> {
    match path {
        ["functions", function, "invoke"] => invoke(console, function, body).await,
        ["mappings", function, queue, switch @ ("enable" | "disable")] => {
            switch_mapping(console, function, queue, *switch == "enable")
        }
        ["queues", name, action] => queue_action(console, name, action, body),
        ["connections", id, "post"] => match console.websocket.connections().post(id, body.clone()).await {
            Ok(()) => json(StatusCode::OK, &json!({ "posted": body.len() })),
            Err(_) => gone(id),
        },
        ["connections", id, "disconnect"] => {
            match console.websocket.connections().close(id, crate::aws::websocket::CLOSE_NORMAL, "").await {
                Ok(()) => json(StatusCode::OK, &json!({ "disconnected": id })),
                Err(_) => gone(id),
            }
        }
        ["tables", table, "put"] => table_call(console, "PutItem", table, "Item", body).await,
        ["tables", table, "delete"] => table_call(console, "DeleteItem", table, "Key", body).await,
        _ => error(StatusCode::NOT_FOUND, "NotFound", &format!("no action /api/{}", path.join("/"))),
    }
}

/// Invokes `function` with `payload` and waits for the result, as `aws lambda invoke` does.
async fn invoke(console: &Console, function: &str, payload: &Bytes) -> Response<Body> {
    if serde_json::from_slice::<Value>(payload).is_err() {
        let message = "Could not parse request body into json: the payload must be JSON";
        return error(StatusCode::BAD_REQUEST, "InvalidRequestContentException", message);
    }
    let request = InvokeRequest::new(payload.clone()).by(Trigger::Console);
    let Some(response) = console.lambda.invoke(function, request).await else {
        let message = format!("Function not found: {function}");
        return error(StatusCode::NOT_FOUND, "ResourceNotFoundException", &message);
    };
    let (status, error_type, result) = match &response.result {
        FunctionResult::Success(body) => ("success", None, String::from_utf8_lossy(body).into_owned()),
        FunctionResult::Streamed(streamed) => ("success", None, streamed.describe()),
        FunctionResult::Streaming(_) => ("success", None, String::new()),
        FunctionResult::Error { error_type, payload } => {
            ("error", Some(error_type.clone()), String::from_utf8_lossy(payload).into_owned())
        }
    };
    json(
        StatusCode::OK,
        &json!({
            "requestId": response.request_id,
            "status": status,
            "errorType": error_type,
            "result": result,
            "log": response.log,
        }),
    )
}

fn queue_action(console: &Console, name: &str, action: &str, body: &Bytes) -> Response<Body> {
    let sqs = &console.sqs;
    let queue = match sqs.app_queue(name) {
        Ok(queue) => queue,
        Err(e) => return error(StatusCode::NOT_FOUND, "QueueDoesNotExist", &e.message),
    };
    let answer = match action {
        "send" => {
            let request: Value = match serde_json::from_slice(body) {
                Ok(request) => request,
                Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidParameterValue", &format!("not JSON: {e}")),
            };
            let message = NewMessage {
                body: request["body"].as_str().unwrap_or_default().to_string(),
                group_id: request["groupId"].as_str().map(String::from),
                deduplication_id: request["deduplicationId"].as_str().map(String::from),
                ..NewMessage::default()
            };
            sqs.send(&queue, message).map(|sent| json!({ "messageId": sent.message_id }))
        }
        "purge" => {
            sqs.purge(&queue);
            Ok(json!({ "purged": queue.name }))
        }
        // Back to where each message came from, as the SQS console's "Start DLQ redrive" does.
        "redrive" => sqs.start_move_task(&queue.arn, None, None).map(|handle| json!({ "taskHandle": handle })),
        _ => return error(StatusCode::NOT_FOUND, "NotFound", &format!("no queue action {action}")),
    };
    match answer {
        Ok(answer) => json(StatusCode::OK, &answer),
        Err(e) => error(StatusCode::BAD_REQUEST, e.code.name(), &e.message),
    }
}

/// PutItem (`{"Item": …}`) or DeleteItem (`{"Key": …}`) in DynamoDB JSON.
async fn table_call(console: &Console, operation: &str, table: &str, field: &str, body: &Bytes) -> Response<Body> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, "ValidationException", &format!("not JSON: {e}")),
    };
    let Some(value) = request.get(field).filter(|v| v.is_object()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            &format!("{field} must be an object in DynamoDB JSON"),
        );
    };
    let call = json!({ "TableName": table, field: value });
    match console.dynamodb.call(&format!("DynamoDB_20120810.{operation}"), call).await {
        Ok(_) => json(StatusCode::OK, &json!({ "done": operation })),
        Err(e) => error(StatusCode::BAD_REQUEST, "DynamoDBError", &e.message),
    }
}

/// Switches the mapping of `function` on `queue` (a name) off or on again.
fn switch_mapping(console: &Console, function: &str, queue: &str, enabled: bool) -> Response<Body> {
    let queue = match console.sqs.app_queue(queue) {
        Ok(queue) => queue,
        Err(e) => return error(StatusCode::NOT_FOUND, "QueueDoesNotExist", &e.message),
    };
    console.pauses.set(function, &queue.arn, enabled);
    let state = if enabled { "Enabled" } else { "Disabled" };
    tracing::info!(target: "console", "the mapping {function} ← {} is {}", queue.name, state.to_lowercase());
    json(StatusCode::OK, &json!({ "function": function, "queue": queue.name, "state": state }))
}

fn gone(id: &str) -> Response<Body> {
    error(StatusCode::GONE, "GoneException", &format!("no open connection {id}"))
}
