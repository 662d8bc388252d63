//! SQS errors: what went wrong as an [`ErrorCode`], and the code each wire protocol sends for it. The JSON
//! protocol names the error in `__type` and repeats the query protocol's code in `x-amzn-query-error`, so SDKs
//! built for either protocol recognise it (the `@awsQueryError` traits of the SQS service model).

/// The SQS errors the emulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    QueueDoesNotExist,
    QueueAlreadyExists,
    InvalidParameterValue,
    InvalidAttributeValue,
    MissingParameter,
    ReceiptHandleIsInvalid,
    MessageNotInflight,
    InvalidMessageContents,
    BatchRequestTooLong,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    /// An `X-Amz-Target` the emulator does not serve (JSON protocol).
    UnsupportedOperation,
    /// An `Action` the emulator does not serve (query protocol).
    InvalidAction,
    /// A request the guard refused (a foreign `Host` or `Origin`): one of AWS's common errors, not SQS's own.
    AccessDenied,
}

impl ErrorCode {
    /// The error's name in the JSON protocol (`__type: com.amazonaws.sqs#<name>`), and the `Code` of a failed
    /// batch entry in both protocols.
    pub fn name(self) -> &'static str {
        match self {
            Self::QueueDoesNotExist => "QueueDoesNotExist",
            Self::QueueAlreadyExists => "QueueAlreadyExists",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidAttributeValue => "InvalidAttributeValue",
            Self::MissingParameter => "MissingParameter",
            Self::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "MessageNotInflight",
            Self::InvalidMessageContents => "InvalidMessageContents",
            Self::BatchRequestTooLong => "BatchRequestTooLong",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::InvalidAction => "InvalidAction",
            Self::AccessDenied => crate::aws::ACCESS_DENIED,
        }
    }

    /// The query protocol's code (`<Code>` of the XML error, and `x-amzn-query-error` in the JSON protocol).
    /// Several keep the `AWS.SimpleQueueService.` prefix of SQS's early API.
    pub fn query_code(self) -> &'static str {
        match self {
            Self::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Self::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Self::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            Self::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            Self::TooManyEntriesInBatchRequest => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            Self::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            Self::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            Self::AccessDenied => crate::aws::ACCESS_DENIED_QUERY_CODE,
            Self::QueueAlreadyExists
            | Self::InvalidParameterValue
            | Self::InvalidAttributeValue
            | Self::MissingParameter
            | Self::ReceiptHandleIsInvalid
            | Self::InvalidMessageContents
            | Self::InvalidAction => self.name(),
        }
    }
}

/// An SQS error: its code and the message for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsError {
    pub code: ErrorCode,
    pub message: String,
}

impl SqsError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn no_queue() -> Self {
        Self::new(ErrorCode::QueueDoesNotExist, "The specified queue does not exist.")
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn invalid_attribute(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidAttributeValue, message)
    }

    pub fn receipt(handle: &str) -> Self {
        Self::new(
            ErrorCode::ReceiptHandleIsInvalid,
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    }

    pub fn missing(parameter: &str) -> Self {
        Self::new(ErrorCode::MissingParameter, format!("The request must contain the parameter {parameter}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_has_its_code() {
        assert_eq!(ErrorCode::QueueDoesNotExist.name(), "QueueDoesNotExist");
        assert_eq!(ErrorCode::QueueDoesNotExist.query_code(), "AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(ErrorCode::InvalidParameterValue.query_code(), "InvalidParameterValue");
        assert_eq!(ErrorCode::EmptyBatchRequest.query_code(), "AWS.SimpleQueueService.EmptyBatchRequest");
    }
}
