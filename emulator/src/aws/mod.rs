//! AWS facts in one place: limits, error types and defaults as named constants, each with its source (here), the
//! names of things (account, ARNs, queue URLs: [`names`]) and where the local endpoints answer ([`endpoints`]).
//! A limit AWS changes is a one-line fix here, and every message that mentions it is built from the constant.

pub mod caller;
pub mod endpoints;
pub mod names;
pub mod query;

pub use names::ACCOUNT_ID;

/// Now, as AWS's timestamps count it: milliseconds since the Unix epoch.
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

use std::time::Duration;

/// The error of a request refused for want of permission, in every JSON and REST-JSON API (AWS "Common Errors";
/// Lambda and the API Gateway management API send it in `x-amzn-ErrorType`, with 403), and its code in SQS's
/// query protocol (`<Code>AccessDenied</Code>`, also the `x-amzn-query-error` of its JSON protocol).
pub const ACCESS_DENIED: &str = "AccessDeniedException";
pub const ACCESS_DENIED_QUERY_CODE: &str = "AccessDenied";

pub mod lambda {
    use super::Duration;

    /// Synchronous invocation payload, request and response: 6 MB (Lambda quotas, "Invocation payload").
    pub const MAX_SYNC_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
    /// Asynchronous (`Event`) payload: 1 MB since 2026-01-29 (AWS Compute blog "payloads up to 1 MB").
    pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1024 * 1024;
    /// The init phase may take at most 10 s (Lambda execution environment lifecycle, "Init phase").
    pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
    /// `X-Amz-Log-Result` carries the last 4 KB of the execution log (Invoke API, LogType).
    pub const LOG_TAIL_BYTES: usize = 4 * 1024;
    /// Lambda bills in 1 ms increments (since December 2020).
    pub const BILLING_GRANULARITY_MS: f64 = 1.0;
    pub const VERSION_LATEST: &str = "$LATEST";
    /// An asynchronous invocation that fails is retried twice by default, after 1 minute and then 2 more
    /// ("How Lambda handles errors and retries with asynchronous invocation"). `MaximumRetryAttempts` is 0–2.
    pub const ASYNC_RETRY_ATTEMPTS: u32 = 2;
    pub const ASYNC_FIRST_RETRY_DELAY: Duration = Duration::from_secs(60);
    /// Events are kept at most 6 hours by default; `MaximumEventAgeInSeconds` is 60–21600.
    pub const ASYNC_MAX_EVENT_AGE_SECONDS: u32 = 6 * 3600;
    pub const ASYNC_MIN_EVENT_AGE_SECONDS: u32 = 60;

    /// Error types in function error payloads (runtime API and troubleshooting docs).
    pub const ERROR_TIMEOUT: &str = "Sandbox.Timedout";
    pub const ERROR_EXIT: &str = "Runtime.ExitError";
    pub const ERROR_INIT: &str = "Runtime.InitError";
    pub const ERROR_INVALID_ENTRYPOINT: &str = "Runtime.InvalidEntrypoint";
    pub const ERROR_RESPONSE_TOO_LARGE: &str = "Function.ResponseSizeTooLarge";
    /// A response mode header other than `streaming` (the Runtime API, `invocationresponse.go`).
    pub const ERROR_INVALID_RESPONSE_MODE: &str = "Runtime.InvalidResponseModeHeader";
    /// A streamed response may be up to 200 MB (Lambda developer guide, "Response streaming"; 20 MB until 2025).
    pub const MAX_STREAMED_RESPONSE_BYTES: usize = 200 * 1024 * 1024;
    /// A streamed response's first 6 MB go as fast as they come; the rest at most 2 MiB/s (16 Mbps) (Lambda
    /// developer guide, "Bandwidth limits for response streaming").
    pub const STREAM_UNCAPPED_BYTES: usize = 6 * 1024 * 1024;
    pub const STREAM_CAPPED_BYTES_PER_SECOND: usize = 2 * 1024 * 1024;

    /// Invoke API error types (API_Invoke "Errors"), sent in `x-amzn-ErrorType`.
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
    pub const REQUEST_TOO_LARGE: &str = "RequestTooLargeException";
    pub const INVALID_REQUEST_CONTENT: &str = "InvalidRequestContentException";
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValueException";
    pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";
}

pub mod apigw {
    use super::Duration;

    /// Request payload limit, REST and HTTP APIs: 10 MB (API Gateway quotas).
    pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
    /// REST API integration timeout: 29 s by default (API Gateway quotas).
    pub const REST_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
    /// HTTP API integration timeout: at most 30 s (API Gateway quotas). Serverless v3 sets it to the function's
    /// timeout plus 0.5 s (serverless/serverless #11222).
    pub const HTTP_API_MAX_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
    pub const HTTP_API_TIMEOUT_MARGIN: Duration = Duration::from_millis(500);
}

pub mod websocket {
    use super::Duration;

    /// API Gateway WebSocket quotas: frames up to 32 KB, messages up to 128 KB (close 1009 beyond).
    pub const MAX_FRAME_BYTES: usize = 32 * 1024;
    pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
    /// PostToConnection `Data`: at most 131072 bytes (apigatewaymanagementapi service model).
    pub const MAX_POST_BYTES: usize = 128 * 1024;
    /// Idle connection timeout, 10 minutes; connection duration, 2 hours.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
    pub const MAX_DURATION: Duration = Duration::from_secs(2 * 60 * 60);
    /// Close codes (RFC 6455): API Gateway sends 1001 when it ends a connection, 1003 for binary frames, 1009 for
    /// oversize messages; 1006 is what is reported when a connection drops without a close frame.
    pub const CLOSE_NORMAL: u16 = 1000;
    pub const CLOSE_GOING_AWAY: u16 = 1001;
    pub const CLOSE_UNSUPPORTED_DATA: u16 = 1003;
    pub const CLOSE_NO_STATUS: u16 = 1005;
    pub const CLOSE_ABNORMAL: u16 = 1006;
    pub const CLOSE_TOO_BIG: u16 = 1009;
    pub const GONE: &str = "GoneException";
    pub const PAYLOAD_TOO_LARGE: &str = "PayloadTooLargeException";
}

pub mod sqs {
    use super::Duration;

    /// Queue attribute defaults and limits (SQS developer guide, quotas; CreateQueue attributes).
    pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);
    pub const MAX_VISIBILITY_TIMEOUT_SECONDS: u64 = 12 * 60 * 60;
    pub const DEFAULT_RETENTION_SECONDS: u64 = 4 * 24 * 60 * 60;
    pub const MIN_RETENTION_SECONDS: u64 = 60;
    pub const MAX_RETENTION_SECONDS: u64 = 14 * 24 * 60 * 60;
    pub const MAX_DELAY_SECONDS: u64 = 15 * 60;
    /// Messages may be up to 1 MiB since 2025 (the SQS quota was 256 KiB before).
    pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
    pub const MIN_MAXIMUM_MESSAGE_SIZE: u64 = 1024;
    /// KmsDataKeyReusePeriodSeconds: 60 s to 24 h, 300 s by default (CreateQueue attributes).
    pub const DEFAULT_KMS_REUSE_SECONDS: u64 = 300;
    pub const MIN_KMS_REUSE_SECONDS: u64 = 60;
    pub const MAX_KMS_REUSE_SECONDS: u64 = 24 * 60 * 60;
    pub const MAX_WAIT_SECONDS: u64 = 20;
    /// Receive and every batch operation take at most 10 entries.
    pub const MAX_BATCH: usize = 10;
    /// Batch entry ids: up to 80 characters (SendMessageBatchRequestEntry `Id`).
    pub const MAX_BATCH_ENTRY_ID_CHARS: usize = 80;
    /// A message takes up to 10 message attributes, each name up to 256 characters (SendMessage).
    pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;
    pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 256;
    /// MessageGroupId and MessageDeduplicationId: up to 128 characters.
    pub const MAX_FIFO_ID_CHARS: usize = 128;
    /// ListQueues answers at most 1000 queue URLs (and MaxResults is 1 to 1000).
    pub const MAX_LIST_QUEUES: usize = 1000;
    /// Queue tags: at most 50 per queue, keys up to 128 characters, values up to 256 (SQS quotas, queues).
    pub const MAX_TAGS: usize = 50;
    pub const MAX_TAG_KEY_CHARS: usize = 128;
    pub const MAX_TAG_VALUE_CHARS: usize = 256;
    /// FIFO deduplication interval: 5 minutes.
    pub const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(5 * 60);
}

pub mod sns {
    use super::Duration;

    /// A message, with its attributes, may be up to 256 KiB (Publish, `Message`).
    pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
    /// A subject is at most 100 characters (Publish, `Subject`).
    pub const MAX_SUBJECT_CHARS: usize = 100;
    /// PublishBatch takes at most 10 entries.
    pub const MAX_BATCH: usize = 10;
    /// Batch entry ids: up to 80 characters of alphanumerics, `-` and `_` (PublishBatchRequestEntry `Id`).
    pub const MAX_BATCH_ENTRY_ID_CHARS: usize = 80;
    /// ListTopics and ListSubscriptions answer 100 at a time, with a `NextToken` for the rest.
    pub const PAGE_SIZE: usize = 100;
    /// A topic has at most 50 tags (SNS quotas).
    pub const MAX_TAGS: usize = 50;
    /// A filter policy has at most 5 keys, and the product of its value lists' sizes is at most 150
    /// (SNS developer guide, "Filter policy constraints").
    pub const MAX_FILTER_KEYS: usize = 5;
    pub const MAX_FILTER_COMBINATIONS: usize = 150;
    /// A raw delivery to SQS carries at most 10 message attributes; a message with more is not delivered
    /// ("Amazon SNS message attributes": SQS accepts 10).
    pub const MAX_RAW_SQS_ATTRIBUTES: usize = 10;
    /// FIFO topics deduplicate within 5 minutes, as FIFO queues do.
    pub const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(5 * 60);
    /// The query protocol's version of the SNS API, which clients send as `Version`.
    pub const API_VERSION: &str = "2010-03-31";
}
