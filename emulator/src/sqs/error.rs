//! SQS errors: what went wrong as an [`ErrorCode`], and the code each wire protocol sends for it. The JSON
//! protocol names the error in `__type` and repeats the query protocol's code in `x-amzn-query-error`, so SDKs
//! built for either protocol recognise it (the `@awsQueryError` traits of the SQS service model).

/// The SQS errors the emulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    QueueDoesNotExist,
    /// CreateQueue of an existing queue with other attributes. The query protocol's code (and so what botocore
    /// and the AWS CLI report) is `QueueAlreadyExists`: the model's `@awsQueryError` of `QueueNameExists`.
    QueueNameExists,
    InvalidParameterValue,
    InvalidAttributeValue,
    InvalidAttributeName,
    MissingParameter,
    ReceiptHandleIsInvalid,
    MessageNotInflight,
    InvalidMessageContents,
    BatchRequestTooLong,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    InvalidBatchEntryId,
    /// Too many actions in one permission.
    OverLimit,
    /// A message move task, or its source queue, that does not exist.
    ResourceNotFoundException,
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
            Self::QueueNameExists => "QueueNameExists",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidAttributeValue => "InvalidAttributeValue",
            Self::InvalidAttributeName => "InvalidAttributeName",
            Self::MissingParameter => "MissingParameter",
            Self::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "MessageNotInflight",
            Self::InvalidMessageContents => "InvalidMessageContents",
            Self::BatchRequestTooLong => "BatchRequestTooLong",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::InvalidBatchEntryId => "InvalidBatchEntryId",
            Self::OverLimit => "OverLimit",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::InvalidAction => "InvalidAction",
            Self::AccessDenied => crate::aws::ACCESS_DENIED,
        }
    }

    /// The JSON protocol's `__type`: SQS's own errors in its namespace, under their model names; the generic
    /// parameter errors and AWS's common errors in the service framework's, under their exception names (as AWS
    /// sends them; botocore reports the query code of `x-amzn-query-error` instead).
    pub fn json_type(self) -> String {
        match self {
            Self::InvalidParameterValue => "com.amazon.coral.service#InvalidParameterValueException".to_string(),
            Self::MissingParameter => "com.amazon.coral.service#MissingRequiredParameterException".to_string(),
            Self::InvalidAction => "com.amazon.coral.service#InvalidActionException".to_string(),
            Self::AccessDenied => format!("com.amazon.coral.service#{}", self.name()),
            _ => format!("com.amazonaws.sqs#{}", self.name()),
        }
    }

    /// The HTTP status: 404 for a message move task or queue ARN not found, 403 refused, 400 for the rest.
    pub fn status(self) -> u16 {
        match self {
            Self::ResourceNotFoundException => 404,
            Self::AccessDenied => 403,
            _ => 400,
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
            Self::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Self::QueueNameExists => "QueueAlreadyExists",
            Self::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            Self::AccessDenied => crate::aws::ACCESS_DENIED_QUERY_CODE,
            Self::InvalidParameterValue
            | Self::InvalidAttributeValue
            | Self::InvalidAttributeName
            | Self::OverLimit
            | Self::ResourceNotFoundException
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

    pub fn invalid_attribute_name(name: &str) -> Self {
        Self::new(ErrorCode::InvalidAttributeName, format!("Unknown Attribute {name}."))
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
        assert_eq!(ErrorCode::QueueNameExists.query_code(), "QueueAlreadyExists");
    }
}
