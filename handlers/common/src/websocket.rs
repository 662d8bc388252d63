//! The WebSocket route functions' event and answer: the connection id of an API Gateway WebSocket event, and
//! the proxy response API Gateway expects back.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;

pub fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<&str, crate::Error> {
    event.request_context.connection_id.as_deref().ok_or_else(|| "the event has no requestContext.connectionId".into())
}

/// A response with `status` and an optional body (sent to the client when the route has a route response).
pub fn response(status: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = body.map(Body::Text);
    response
}
