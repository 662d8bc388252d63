//! Status updates to every connected browser through the API Gateway management API at `WEBSOCKET_ENDPOINT`
//! (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`; ftb-offline resolves it to its own). A
//! connection that answers 410 Gone is removed from the connections table.

use crate::store::ConnectionStore;
use crate::task::StatusUpdate;
use crate::{env, Error};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::future::join_all;

#[derive(Clone)]
pub struct Pusher {
    client: aws_sdk_apigatewaymanagement::Client,
    connections: ConnectionStore,
}

/// How one post went.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The connection is gone and was removed.
    Gone,
    Failed,
}

impl Pusher {
    /// From the environment serverless.yml sets: `CONNECTIONS_TABLE` and `WEBSOCKET_ENDPOINT`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, Error> {
        let connections = ConnectionStore::new(config, env::required("CONNECTIONS_TABLE")?);
        Ok(Self::new(config, &env::required("WEBSOCKET_ENDPOINT")?, connections))
    }

    pub fn new(config: &aws_config::SdkConfig, endpoint: &str, connections: ConnectionStore) -> Self {
        let management = aws_sdk_apigatewaymanagement::config::Builder::from(config).endpoint_url(endpoint).build();
        Self { client: aws_sdk_apigatewaymanagement::Client::from_conf(management), connections }
    }

    /// Sends `update` to every connection; a failure is logged, never fails the caller.
    pub async fn broadcast(&self, update: &StatusUpdate) {
        let ids = match self.connections.all().await {
            Ok(ids) => ids,
            Err(err) => {
                tracing::error!(task_id = %update.task_id, "cannot list the WebSocket connections: {err}");
                return;
            }
        };
        let data = serde_json::to_vec(update).expect("updates serialise");
        let results = join_all(ids.iter().map(|id| self.send(id, data.clone()))).await;
        let sent = results.iter().filter(|r| **r == Delivery::Sent).count();
        tracing::info!(task_id = %update.task_id, status = update.status.as_str(), "pushed to {sent} of {} connections", ids.len());
    }

    pub async fn send(&self, connection_id: &str, data: Vec<u8>) -> Delivery {
        let result = self.client.post_to_connection().connection_id(connection_id).data(Blob::new(data)).send().await;
        match result {
            Ok(_) => Delivery::Sent,
            Err(err) if matches!(err.as_service_error(), Some(PostToConnectionError::GoneException(_))) => {
                tracing::info!("connection {connection_id} is gone; removing it");
                if let Err(err) = self.connections.remove(connection_id).await {
                    tracing::warn!("cannot remove the connection {connection_id}: {err}");
                }
                Delivery::Gone
            }
            Err(err) => {
                tracing::warn!(
                    "cannot post to connection {connection_id}: {}",
                    aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err)
                );
                Delivery::Failed
            }
        }
    }
}
