//! SNS: topics and subscriptions, the SNS API (query protocol) on the Lambda port, and delivery to the app's
//! Lambda functions and SQS queues.
//!
//! The model knows nothing of XML or HTTP:
//! - [`service`]: [`Sns`], every topic and subscription, and the operations everything else calls.
//! - [`topic`]: a topic's and a subscription's attributes.
//! - [`publication`]: a message to publish and what SNS refuses in one.
//! - [`filter`]: subscription filter policies (attributes and payload).
//! - [`notification`]: what subscribers receive, shaped per protocol as SNS shapes it.
//! - [`delivery`]: handing a notification to a function (asynchronous invocation) or a queue.
//! - [`error`]: SNS errors and their codes.
//!
//! The API and its callers:
//! - [`api`]: an HTTP request → its answer (the Lambda port routes SNS requests here).
//! - [`requests`]: the typed operations, run against [`Sns`]; [`query_protocol`]: their wire form.
//! - [`resources`]: topics and subscriptions from `serverless.yml` (`AWS::SNS::*` resources, `sns` events).

pub mod api;
pub mod delivery;
pub mod error;
pub mod filter;
pub mod notification;
pub mod publication;
pub mod query_protocol;
pub mod requests;
pub mod resources;
pub mod service;
pub mod topic;

pub use service::Sns;
