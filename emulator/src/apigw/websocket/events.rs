//! The events API Gateway sends a WebSocket API's functions: CONNECT (with the upgrade request's headers and
//! query string), MESSAGE (with the frame's text) and DISCONNECT (with the close code and reason).

use super::connections::Connection;
use crate::apigw::events::{domain_prefix, format_request_time, header_maps};
use crate::aws::ACCOUNT_ID;
use chrono::Utc;
use serde_json::{json, Map, Value};

/// What every event of one API shares.
pub struct WsApi<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub domain_name: &'a str,
}

fn request_context(
    connection: &Connection,
    route_key: &str,
    event_type: &str,
    request_id: &str,
    api: &WsApi,
) -> Map<String, Value> {
    let now = Utc::now();
    let context = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": format_request_time(now),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": connection.connected_at.timestamp_millis(),
        "requestTimeEpoch": now.timestamp_millis(),
        "identity": { "sourceIp": connection.source_ip, "userAgent": connection.user_agent },
        "requestId": request_id,
        "domainName": api.domain_name,
        "domainPrefix": domain_prefix(api.domain_name),
        "connectionId": connection.id,
        "apiId": api.api_id,
        "accountId": ACCOUNT_ID,
    });
    let mut context = match context {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object"),
    };
    // The `$connect` authorizer's principal and context reach every route of the connection.
    if let Some(authorizer) = connection.authorizer() {
        context.insert("authorizer".into(), authorizer.clone());
    }
    context
}

pub fn connect_event(connection: &Connection, query: &[(String, String)], request_id: &str, api: &WsApi) -> Value {
    let (headers, multi_headers) = header_maps(&connection.headers);
    let (single_query, multi_query) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        let mut single = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (k, v) in query {
            single.insert(k.clone(), Value::String(v.clone()));
            let entry = multi.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = entry {
                values.push(Value::String(v.clone()));
            }
        }
        (Value::Object(single), Value::Object(multi))
    };
    json!({
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": request_context(connection, "$connect", "CONNECT", request_id, api),
        "isBase64Encoded": false,
    })
}

pub fn message_event(connection: &Connection, route_key: &str, body: &str, request_id: &str, api: &WsApi) -> Value {
    let mut context = request_context(connection, route_key, "MESSAGE", request_id, api);
    context.insert("messageId".into(), Value::String(request_id.chars().filter(|c| *c != '-').take(16).collect()));
    json!({ "requestContext": context, "body": body, "isBase64Encoded": false })
}

pub fn disconnect_event(connection: &Connection, code: u16, reason: &str, request_id: &str, api: &WsApi) -> Value {
    let (headers, multi_headers) = header_maps(&connection.headers);
    let mut context = request_context(connection, "$disconnect", "DISCONNECT", request_id, api);
    context.insert("disconnectStatusCode".into(), json!(code));
    context.insert("disconnectReason".into(), json!(reason));
    json!({ "headers": headers, "multiValueHeaders": multi_headers, "requestContext": context, "isBase64Encoded": false })
}
