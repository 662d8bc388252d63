//! API Gateway's HTTP side on one port: the REST API (`http` events, payload 1.0, served under `/{stage}`) and
//! the HTTP API (`httpApi` events, payload 2.0, served at the root), as serverless-offline serves them.
//!
//! - [`routes`]: which route (and function) a request goes to.
//! - [`events`]: the Lambda events API Gateway builds (pure).
//! - [`response`]: Lambda results → HTTP responses, and the gateway's own errors (pure).
//! - [`cors`]: preflight answers and allow headers.
//! - [`http`]: the server that puts them together.

pub mod cors;
pub mod events;
pub mod http;
pub mod response;
pub mod routes;
pub mod websocket;
