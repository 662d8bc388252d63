//! SQS: queues with SQS's semantics, the SQS API in both wire protocols the SDKs use, and Lambda event source
//! mappings that feed functions from queues (the Fault Tolerant App's retries and dead-letter queue).
//!
//! - [`model`]: queues and messages: visibility, delay, retention, redrive, FIFO groups and deduplication.
//!   It knows nothing of JSON, XML or HTTP.
//! - [`settings`]: the settable queue attributes (the one list of them), parsed and checked.
//! - [`message`]: messages as sent and received; message attributes.
//! - [`durable`]: with `--persist`, the queues written crash-safely before each change is acknowledged.
//! - [`error`]: SQS errors, with the code each protocol sends.
//! - [`digest`]: MD5OfMessageBody and MD5OfMessageAttributes, computed as AWS computes them.
//! - [`requests`]: the typed operations both protocols parse into, and running them against the model.
//! - [`json_protocol`], [`query_protocol`]: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.*`) and the query protocol.
//! - [`mapping`]: event source mapping pollers that invoke functions through the Lambda pool.

pub mod digest;
pub mod durable;
pub mod error;
pub mod json_protocol;
pub mod mapping;
pub mod message;
pub mod model;
pub mod query_protocol;
pub mod requests;
pub mod resources;
pub mod settings;
