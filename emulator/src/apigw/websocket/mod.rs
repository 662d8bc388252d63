//! API Gateway's WebSocket API on its own port (4001): connections, route selection, `$connect` /
//! `$disconnect` / `$default` / custom routes, and the `@connections` management API on the same port.
//!
//! - [`connections`]: the open connections and what can be done to them (state and semantics).
//! - [`events`]: the CONNECT, MESSAGE and DISCONNECT events API Gateway sends (pure).
//! - [`management`]: the `@connections` wire protocol (PostToConnection, GetConnection, DeleteConnection).
//! - [`routes`]: the WebSocket API's part of the plan: route keys, their functions, route selection.
//! - [`server`]: upgrades, the per-connection loop, routing and limits.

pub mod connections;
pub mod events;
pub mod management;
pub mod routes;
pub mod server;
