//! wsConnect, the `$connect` route: remembers the connection so status updates reach it.

use fta_common::websocket::{run_connection_route, ConnectionChange};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fta_common::Error> {
    run_connection_route(ConnectionChange::Add).await
}
