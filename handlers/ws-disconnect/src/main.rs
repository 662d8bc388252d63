//! wsDisconnect, the `$disconnect` route: forgets the connection.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use fta_common::store::ConnectionStore;
use fta_common::websocket::{connection_id, response};
use fta_common::{env, Error};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let connections = ConnectionStore::new(&config, env::required("CONNECTIONS_TABLE")?);
    let connections = &connections;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        let id = connection_id(&event.payload)?;
        connections.remove(id).await?;
        tracing::info!(connection_id = id, "disconnected");
        Ok::<ApiGatewayProxyResponse, Error>(response(200, None))
    }))
    .await
}
