//! The WebSocket route functions' event and answer: the connection id of an API Gateway WebSocket event, the
//! proxy response API Gateway expects back, and the whole of the `$connect` / `$disconnect` functions.

use crate::store::ConnectionStore;
use crate::{env, Error};
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use lambda_runtime::{service_fn, LambdaEvent};

/// What a connection route does with the connections table.
#[derive(Debug, Clone, Copy)]
pub enum ConnectionChange {
    /// `$connect`: remember the connection so status updates reach it.
    Add,
    /// `$disconnect`: forget it.
    Remove,
}

/// Runs a `$connect` or `$disconnect` function until Lambda stops it.
pub async fn run_connection_route(change: ConnectionChange) -> Result<(), Error> {
    crate::init_logging();
    let config = crate::aws_config().await;
    let connections = ConnectionStore::new(&config, env::required("CONNECTIONS_TABLE")?);
    let connections = &connections;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        let id = connection_id(&event.payload)?;
        match change {
            ConnectionChange::Add => connections.add(id).await?,
            ConnectionChange::Remove => connections.remove(id).await?,
        }
        tracing::info!(
            connection_id = id,
            "{}",
            if let ConnectionChange::Add = change { "connected" } else { "disconnected" }
        );
        Ok::<ApiGatewayProxyResponse, Error>(response(200, None))
    }))
    .await
}

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
