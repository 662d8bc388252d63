//! What an invocation returns: a payload, a streamed HTTP response, or an error document ([`FunctionResult`]).
//! Lambda's error document (`{"errorType", "errorMessage"}`) is built here and nowhere else.

use bytes::Bytes;
use serde_json::Value;

/// What the function returned.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionResult {
    Success(Bytes),
    /// A streamed HTTP response (`application/vnd.awslambda.http-integration-response`), for the HTTP gateways.
    Streamed(StreamedResponse),
    /// An error document (`{"errorType", "errorMessage", …}`) from the handler or from Lambda itself.
    Error {
        error_type: String,
        payload: Bytes,
    },
}

impl FunctionResult {
    /// An error Lambda itself reports (a timeout, a crash, a refused response).
    pub fn error(error_type: &str, message: &str) -> Self {
        Self::Error { error_type: error_type.to_string(), payload: error_document(error_type, message) }
    }
}

/// Lambda's error document: `{"errorType": …, "errorMessage": …}`.
pub fn error_document(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

/// Content type of a streamed HTTP response: a JSON metadata prelude, eight NUL bytes, then the body.
pub const HTTP_INTEGRATION_RESPONSE: &str = "application/vnd.awslambda.http-integration-response";

/// A streamed HTTP response as its prelude declared it (status, headers, cookies) with the body that followed.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedResponse {
    pub status: u16,
    /// Single-valued headers first, then each value of a multi-valued one, in the order given.
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<String>,
    pub body: Bytes,
}

impl StreamedResponse {
    /// Splits a streamed response at the eight NUL bytes after its prelude. Without a prelude, the whole stream
    /// is the body of a 200.
    pub fn parse(stream: Bytes) -> Self {
        let split = stream.windows(8).position(|w| w == [0u8; 8]);
        let (prelude, body) = match split {
            Some(at) => (serde_json::from_slice::<Value>(&stream[..at]).unwrap_or(Value::Null), stream.slice(at + 8..)),
            None => (Value::Null, stream),
        };
        let status = prelude.get("statusCode").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok());
        let mut headers = Vec::new();
        if let Some(Value::Object(map)) = prelude.get("headers") {
            for (name, value) in map {
                match value {
                    Value::Array(values) => headers.extend(values.iter().map(|v| (name.clone(), text(v)))),
                    other => headers.push((name.clone(), text(other))),
                }
            }
        }
        let cookies = match prelude.get("cookies") {
            Some(Value::Array(cookies)) => cookies.iter().map(text).collect(),
            _ => Vec::new(),
        };
        Self { status: status.unwrap_or(200), headers, cookies, body }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_splits_into_prelude_and_body() {
        let mut stream = br#"{"statusCode":201,"headers":{"x-a":"1","x-b":["2","3"]},"cookies":["c=1"]}"#.to_vec();
        stream.extend([0u8; 8]);
        stream.extend(b"one,two");
        let parsed = StreamedResponse::parse(Bytes::from(stream));
        assert_eq!(parsed.status, 201);
        assert_eq!(
            parsed.headers,
            vec![("x-a".into(), "1".into()), ("x-b".into(), "2".into()), ("x-b".into(), "3".into())]
        );
        assert_eq!(parsed.cookies, vec!["c=1".to_string()]);
        assert_eq!(parsed.body, Bytes::from_static(b"one,two"));
        let raw = StreamedResponse::parse(Bytes::from_static(b"raw"));
        assert_eq!(raw.body, Bytes::from_static(b"raw"));
        assert_eq!(raw.status, 200);
    }
}
