//! What an invocation returns: a payload, a stream still arriving, a streamed HTTP response read whole, or an
//! error document ([`FunctionResult`]). Lambda's error document (`{"errorType", "errorMessage"}`) is built here
//! and nowhere else.

use bytes::Bytes;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the function returned.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionResult {
    Success(Bytes),
    /// A response the function is still streaming (`Lambda-Runtime-Function-Response-Mode: streaming`): only
    /// [`super::Lambda::invoke_streaming`] returns it; [`ResponseStream::collect`] reads it whole.
    Streaming(ResponseStream),
    /// A streamed HTTP response (`application/vnd.awslambda.http-integration-response`) read whole.
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

/// A streamed response as its chunks arrive from the runtime, with how it ended: an `Err` is the error the
/// runtime reported mid-stream (in the `Lambda-Runtime-Function-Error-*` trailers). One reader takes the chunks;
/// clones share them.
#[derive(Clone)]
pub struct ResponseStream {
    /// The content type the runtime declared: [`HTTP_INTEGRATION_RESPONSE`] for an HTTP response with a prelude.
    pub content_type: String,
    chunks: Arc<Mutex<Option<mpsc::Receiver<Chunk>>>>,
    /// The invocation's whole log (START … REPORT), set once the stream has ended, before its last chunk.
    log: Arc<std::sync::OnceLock<String>>,
}

/// A piece of a streamed response, or the error that ended it (its type and error document).
pub type Chunk = Result<Bytes, (String, Bytes)>;

impl ResponseStream {
    /// A stream and the sender the Runtime API feeds it with. A small buffer: a client that reads slowly slows
    /// the function's writes down, as a stream does.
    pub fn channel(content_type: &str) -> (mpsc::Sender<Chunk>, Self) {
        let (sender, receiver) = mpsc::channel(16);
        let chunks = Arc::new(Mutex::new(Some(receiver)));
        (sender, Self { content_type: content_type.to_string(), chunks, log: Arc::default() })
    }

    /// A stream of chunks taken from another (what is left of it after its beginning was read).
    pub fn from_receiver(content_type: &str, chunks: mpsc::Receiver<Chunk>) -> Self {
        Self { content_type: content_type.to_string(), chunks: Arc::new(Mutex::new(Some(chunks))), log: Arc::default() }
    }

    /// The chunks, for the one reader; `None` once taken.
    pub fn take(&self) -> Option<mpsc::Receiver<Chunk>> {
        self.chunks.lock().unwrap().take()
    }

    /// The invocation's whole log, once the stream has ended.
    pub fn final_log(&self) -> Option<&str> {
        self.log.get().map(String::as_str)
    }

    /// Records the invocation's whole log (by the pool, as the stream ends).
    pub fn set_final_log(&self, log: String) {
        let _ = self.log.set(log);
    }

    pub fn is_http(&self) -> bool {
        self.content_type == HTTP_INTEGRATION_RESPONSE
    }

    /// The whole stream as a result read whole: an HTTP response, the bytes, or the error that ended it.
    pub async fn collect(self) -> FunctionResult {
        let Some(mut chunks) = self.take() else {
            return FunctionResult::error("Runtime.StreamTaken", "the response stream was already read");
        };
        let mut body = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            match chunk {
                Ok(bytes) => body.extend_from_slice(&bytes),
                Err((error_type, payload)) => return FunctionResult::Error { error_type, payload },
            }
        }
        let body = Bytes::from(body);
        if self.is_http() {
            FunctionResult::Streamed(StreamedResponse::parse(body))
        } else {
            FunctionResult::Success(body)
        }
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResponseStream({})", self.content_type)
    }
}

impl PartialEq for ResponseStream {
    /// The same stream.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chunks, &other.chunks)
    }
}

impl FunctionResult {
    /// The result read whole: a stream is collected, anything else is as it is.
    pub async fn whole(self) -> FunctionResult {
        match self {
            FunctionResult::Streaming(stream) => stream.collect().await,
            other => other,
        }
    }
}

/// Where the prelude of a streamed HTTP response ends: eight NUL bytes.
pub const PRELUDE_END: [u8; 8] = [0u8; 8];

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
        let split = stream.windows(8).position(|w| w == PRELUDE_END);
        let (prelude, body) = match split {
            Some(at) => (serde_json::from_slice::<Value>(&stream[..at]).unwrap_or(Value::Null), stream.slice(at + 8..)),
            None => (Value::Null, stream),
        };
        Self::from_prelude(&prelude, body)
    }

    /// The status, headers and cookies a prelude declares, with `body`.
    pub fn from_prelude(prelude: &Value, body: Bytes) -> Self {
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

    /// The response in a line and its body, for the journal: `200 (streamed)\n<body>`.
    pub fn describe(&self) -> String {
        format!("{} (streamed)\n{}", self.status, String::from_utf8_lossy(&self.body))
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
