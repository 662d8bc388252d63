//! SNS errors: the codes SNS answers with (the `Code` of the query protocol's `<Error>`), their HTTP status, and
//! the messages, worded as SNS words them where that is known.

/// The SNS error codes the emulator sends (API reference, each operation's "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    ResourceNotFound,
    InvalidParameter,
    InvalidParameterValue,
    /// A required parameter is missing: the common `ValidationError` of AWS's query APIs.
    ValidationError,
    InvalidAction,
    TagLimitExceeded,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    InvalidBatchEntryId,
    AccessDenied,
}

impl ErrorCode {
    pub fn name(self) -> &'static str {
        match self {
            Self::NotFound => "NotFound",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::InvalidParameter => "InvalidParameter",
            Self::InvalidParameterValue => "ParameterValueInvalid",
            Self::ValidationError => "ValidationError",
            Self::InvalidAction => "InvalidAction",
            Self::TagLimitExceeded => "TagLimitExceeded",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::InvalidBatchEntryId => "InvalidBatchEntryId",
            Self::AccessDenied => crate::aws::ACCESS_DENIED_QUERY_CODE,
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::NotFound | Self::ResourceNotFound => 404,
            Self::AccessDenied => 403,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsError {
    pub code: ErrorCode,
    pub message: String,
}

impl SnsError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// `Invalid parameter: <what>`, SNS's wording of most refusals.
    pub fn invalid(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidParameter, format!("Invalid parameter: {what}"))
    }

    pub fn missing(parameter: &str) -> Self {
        Self::new(
            ErrorCode::ValidationError,
            format!("1 validation error detected: Value null at '{parameter}' failed to satisfy constraint: Member must not be null"),
        )
    }

    pub fn no_topic() -> Self {
        Self::new(ErrorCode::NotFound, "Topic does not exist")
    }

    pub fn no_subscription() -> Self {
        Self::new(ErrorCode::NotFound, "Subscription does not exist")
    }
}

impl std::fmt::Display for SnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}
