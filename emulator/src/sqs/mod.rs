//! SQS: queues with SQS's semantics, the SQS API in both wire protocols the SDKs use, and Lambda event source
//! mappings that feed functions from queues (the Fault Tolerant App's retries and dead-letter queue).
//!
//! The model (queues and messages) knows nothing of JSON, XML or HTTP:
//! - [`service`]: [`Sqs`], every queue by account, region and name, and the operations everything else calls.
//! - [`queue`]: one queue: visibility, delay, retention, receive counts, FIFO groups and deduplication.
//! - [`message`]: messages as sent, kept, and received; message and system attributes; receipt handles.
//! - [`checks`]: what SQS refuses before queueing a message (size, characters, names, FIFO ids, batch ids).
//! - [`settings`]: the settable queue attributes (the one list of them), parsed, checked and compared.
//! - [`policy`]: the JSON attributes: the access policy AddPermission edits, and RedriveAllowPolicy.
//! - [`move_tasks`]: message move tasks and their registry.
//! - [`redrive`]: the DLQ redrive (StartMessageMoveTask and the rest): running move tasks on [`Sqs`].
//! - [`error`]: SQS errors, with the code each protocol sends.
//! - [`durable`]: with `--persist`, the queues written crash-safely before each change is acknowledged.
//! - [`digest`]: the MD5s SQS returns and content-based deduplication's SHA-256, computed as AWS computes them.
//!
//! The API and its callers:
//! - [`api`]: an HTTP request in either protocol → its answer (the Lambda port routes SQS requests here).
//! - [`requests`]: the typed operations both protocols parse into, and running them against [`Sqs`].
//! - [`json_protocol`], [`query_protocol`]: AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.*`) and the query protocol.
//! - [`resources`]: queues and event source mappings from `serverless.yml`.
//! - [`mapping`]: event source mapping pollers that invoke functions through the Lambda pool.

pub mod api;
pub mod checks;
pub mod digest;
pub mod durable;
pub mod error;
pub mod json_protocol;
pub mod mapping;
pub mod message;
pub mod move_tasks;
pub mod pauses;
pub mod policy;
pub mod query_protocol;
pub mod queue;
pub mod redrive;
pub mod requests;
pub mod resources;
pub mod service;
pub mod settings;
pub mod tags;

pub use service::Sqs;
