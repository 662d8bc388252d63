//! InvokeWithResponseStream (`POST /2021-11-15/functions/{name}/response-streaming-invocations`): the function's
//! response passed on as it is written, as AWS event-stream messages (the framing aws-sdk-lambda reads): a
//! `PayloadChunk` per piece, then one `InvokeComplete` with `ErrorCode`/`ErrorDetails` if it failed and
//! `LogResult` with `LogType: Tail`. A function that does not stream arrives as one chunk. Request parsing is
//! the Invoke API's ([`super::invoke_api`]).

use super::logs::tail_base64;
use super::{FunctionResult, InvokeRequest, Lambda};
use crate::aws::lambda as aws;
use crate::server::Body;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use futures_util::StreamExt;
use hyper::{Response, StatusCode};
use serde_json::json;

/// Runs the invocation and answers with its event stream. `None` when no function has that name.
pub async fn respond(lambda: &Lambda, key: &str, request: InvokeRequest, tail: bool) -> Option<Response<Body>> {
    let response = lambda.invoke_streaming(key, request).await?;
    // A stream's log is whole only once it has ended: read it then.
    let streamed = match &response.result {
        FunctionResult::Streaming(stream) => Some(stream.clone()),
        _ => None,
    };
    let log = response.log.clone();
    let complete = move |error: Option<(String, Bytes)>| {
        let log = streamed.as_ref().and_then(|stream| stream.final_log()).unwrap_or(&log);
        invoke_complete(error, tail.then(|| tail_base64(log)))
    };
    let (content_type, events): (String, futures_util::stream::BoxStream<'static, Bytes>) = match response.result {
        FunctionResult::Streaming(stream) => {
            let content_type = stream.content_type.clone();
            let chunks = stream.take()?;
            let events = futures_util::stream::unfold(Some(chunks), move |state| {
                let complete = complete.clone();
                async move {
                    let mut chunks = state?;
                    Some(match chunks.recv().await {
                        Some(Ok(bytes)) => (payload_chunk(bytes), Some(chunks)),
                        Some(Err(error)) => (complete(Some(error)), None),
                        None => (complete(None), None),
                    })
                }
            });
            (content_type, events.boxed())
        }
        FunctionResult::Success(bytes) => one_chunk("application/json", bytes, complete(None)),
        FunctionResult::Streamed(streamed) => one_chunk("application/octet-stream", streamed.body, complete(None)),
        FunctionResult::Error { error_type, payload } => (
            "application/json".to_string(),
            futures_util::stream::iter([complete(Some((error_type, payload)))]).boxed(),
        ),
    };
    let body = crate::server::streamed(Bytes::new(), events.map(Ok));
    let reply = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .header("x-amzn-requestid", &response.request_id)
        .header("x-amz-executed-version", aws::VERSION_LATEST)
        .body(body)
        .expect("static parts are valid");
    Some(reply)
}

fn one_chunk(
    content_type: &str,
    bytes: Bytes,
    complete: Bytes,
) -> (String, futures_util::stream::BoxStream<'static, Bytes>) {
    (content_type.to_string(), futures_util::stream::iter([payload_chunk(bytes), complete]).boxed())
}

/// A `PayloadChunk` event: raw bytes.
fn payload_chunk(bytes: Bytes) -> Bytes {
    encode(event("PayloadChunk", "application/octet-stream", bytes))
}

/// The `InvokeComplete` event that ends the stream.
fn invoke_complete(error: Option<(String, Bytes)>, log_result: Option<String>) -> Bytes {
    let mut fields = serde_json::Map::new();
    if let Some((error_type, details)) = error {
        fields.insert("ErrorCode".into(), json!(error_type));
        fields.insert("ErrorDetails".into(), json!(String::from_utf8_lossy(&details)));
    }
    if let Some(log) = log_result {
        fields.insert("LogResult".into(), json!(log));
    }
    encode(event("InvokeComplete", "application/json", Bytes::from(serde_json::Value::Object(fields).to_string())))
}

fn event(event_type: &'static str, content_type: &'static str, payload: Bytes) -> Message {
    Message::new(payload)
        .add_header(Header::new(":event-type", HeaderValue::String(event_type.into())))
        .add_header(Header::new(":content-type", HeaderValue::String(content_type.into())))
        .add_header(Header::new(":message-type", HeaderValue::String("event".into())))
}

fn encode(message: Message) -> Bytes {
    let mut buffer = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut buffer).expect("event messages encode");
    Bytes::from(buffer)
}
