//! wsDisconnect, the `$disconnect` route: forgets the connection.

use fta_common::websocket::{run_connection_route, ConnectionChange};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fta_common::Error> {
    run_connection_route(ConnectionChange::Remove).await
}
