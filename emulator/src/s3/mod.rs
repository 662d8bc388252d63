//! S3 on its own port (4569 by default, as serverless-s3-local): buckets and objects kept as files by s3s-fs
//! under `.ftb-offline/<stage>/s3` (with `--persist`; a temporary folder otherwise), the S3 REST API parsed and
//! signatures checked by s3s, and what those crates leave out added here: bucket CORS and event notifications
//! to functions, queues and topics.
//!
//! - [`gateway`]: the port: the host guard, CORS preflights, then s3s.
//! - [`storage`]: the S3 operations (s3s-fs, wrapped to add CORS, notifications and S3's own answers).
//! - [`buckets`]: each bucket's CORS rules and notification configurations, and delivering notifications.
//! - [`events`]: which configurations a change matches, and the S3 event record.
//! - [`cors`]: CORS rule evaluation.
//! - [`auth`]: the key pairs whose signatures are accepted; [`host`]: virtual-hosted-style names;
//!   [`signature`]: a signature's malformed dates and scope, refused before s3s reads them.
//! - [`resources`]: buckets, CORS and notifications from `serverless.yml`.

pub mod auth;
pub mod buckets;
pub mod cors;
pub mod events;
pub mod gateway;
pub mod host;
pub mod resources;
pub mod signature;
pub mod storage;

pub use gateway::S3Gateway;
