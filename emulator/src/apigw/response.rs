//! A Lambda result → the HTTP response API Gateway sends: the proxy response of payload 1.0 (strict: anything
//! else is a 502), payload 2.0's structured or simplified form, and the gateway's own error responses.

use crate::lambda::result::PRELUDE_END;
use crate::lambda::{FunctionResult, ResponseStream, StreamedResponse};
use base64::Engine;
use bytes::Bytes;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::marker::PhantomData;

/// An HTTP response, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    /// In order; repeated names are repeated headers (`set-cookie`).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The rest of a body the function is still streaming, sent after `body` as it arrives.
    pub rest: Option<ResponseStream>,
}

/// Why the gateway answers with an error of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// The function failed, or its response was malformed.
    Integration,
    /// The integration did not answer within the gateway's timeout.
    Timeout,
    /// No route for the request.
    NoRoute,
    /// The request body is over API Gateway's 10 MB.
    TooLarge,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &str, error_type: Option<&str>) -> Self {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(kind) = error_type {
            headers.push(("x-amzn-errortype".to_string(), kind.to_string()));
        }
        Self { status, headers, body: Bytes::from(body.to_string()), rest: None }
    }

    /// REST API gateway responses (default gateway response bodies, `{"message":$context.error.messageString}`).
    pub fn rest_error(error: GatewayError) -> Self {
        match error {
            GatewayError::Integration => {
                Self::json(502, r#"{"message": "Internal server error"}"#, Some("InternalServerErrorException"))
            }
            GatewayError::Timeout => Self::json(504, r#"{"message": "Endpoint request timed out"}"#, None),
            GatewayError::NoRoute => Self::json(
                403,
                r#"{"message":"Missing Authentication Token"}"#,
                Some("MissingAuthenticationTokenException"),
            ),
            GatewayError::TooLarge => Self::json(413, r#"{"message":"Request Too Long"}"#, None),
        }
    }

    /// A function URL's own errors, Lambda's (recorded from AWS): a failed or timed-out function is a 502
    /// `Internal Server Error`; a URL that does not exist is refused as AWS refuses it.
    pub fn function_url_error(error: GatewayError) -> Self {
        match error {
            GatewayError::Integration | GatewayError::Timeout => Self::json(502, "Internal Server Error", None),
            GatewayError::NoRoute => Self::json(403, r#"{"Message":null}"#, Some("AccessDeniedException")),
            GatewayError::TooLarge => Self::json(
                413,
                r#"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
                None,
            ),
        }
    }

    /// HTTP API error responses.
    pub fn http_api_error(error: GatewayError) -> Self {
        match error {
            GatewayError::Integration => Self::json(500, r#"{"message":"Internal Server Error"}"#, None),
            GatewayError::Timeout => Self::json(503, r#"{"message":"Service Unavailable"}"#, None),
            GatewayError::NoRoute => Self::json(404, r#"{"message":"Not Found"}"#, None),
            GatewayError::TooLarge => Self::json(413, r#"{"message":"Request Entity Too Large"}"#, None),
        }
    }
}

/// Payload 1.0: `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` and nothing else.
pub fn rest_response(result: &FunctionResult) -> Result<Reply, GatewayError> {
    let payload = match result {
        FunctionResult::Success(payload) => payload,
        FunctionResult::Streamed(streamed) => return Ok(with_default_content_type(streamed_reply(streamed))),
        FunctionResult::Error { .. } => return Err(GatewayError::Integration),
        // Read whole before it comes here: REST APIs buffer a streamed response.
        FunctionResult::Streaming(_) => return Err(GatewayError::Integration),
    };
    let Ok(Value::Object(response)) = serde_json::from_slice::<Value>(payload) else {
        return Err(GatewayError::Integration);
    };
    const ALLOWED: &[&str] = &["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"];
    if response.keys().any(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(GatewayError::Integration);
    }
    let response = ProxyResponse::deserialize(Value::Object(response)).map_err(|_| GatewayError::Integration)?;
    Ok(with_default_content_type(response.reply()?))
}

/// REST APIs answer `application/json` when the function names no content type.
fn with_default_content_type(mut reply: Reply) -> Reply {
    if !reply.headers.iter().any(|(k, _)| k == "content-type") {
        reply.headers.push(("content-type".into(), "application/json".into()));
    }
    reply
}

/// A response the function is still streaming, for an HTTP API or a function URL: the status and headers of its
/// prelude as soon as the prelude has arrived (up to the eight NUL bytes), then the body as it is written. A
/// stream without the HTTP integration content type is the body of a 200. An error before the prelude ends is
/// the integration's failure.
pub async fn streaming_reply(stream: ResponseStream) -> Result<Reply, GatewayError> {
    let mut chunks = stream.take().ok_or(GatewayError::Integration)?;
    if !stream.is_http() {
        let headers = vec![("content-type".to_string(), stream.content_type.clone())];
        let rest = Some(ResponseStream::from_receiver(&stream.content_type, chunks));
        return Ok(Reply { status: 200, headers, body: Bytes::new(), rest });
    }
    let mut head = Vec::new();
    let at = loop {
        match chunks.recv().await {
            Some(Ok(bytes)) => {
                head.extend_from_slice(&bytes);
                if let Some(at) = head.windows(PRELUDE_END.len()).position(|w| w == PRELUDE_END) {
                    break at;
                }
            }
            Some(Err(_)) => return Err(GatewayError::Integration),
            None => return Ok(streamed_reply(&StreamedResponse::parse(Bytes::from(head)))),
        }
    };
    let prelude = serde_json::from_slice::<Value>(&head[..at]).unwrap_or(Value::Null);
    let started = Bytes::copy_from_slice(&head[at + PRELUDE_END.len()..]);
    let mut reply = streamed_reply(&StreamedResponse::from_prelude(&prelude, started));
    reply.rest = Some(ResponseStream::from_receiver(&stream.content_type, chunks));
    Ok(reply)
}

/// A streamed response as it is sent: its prelude's status and headers, each cookie as a `set-cookie`.
fn streamed_reply(streamed: &StreamedResponse) -> Reply {
    let mut headers: Vec<(String, String)> =
        streamed.headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect();
    headers.extend(streamed.cookies.iter().map(|cookie| ("set-cookie".to_string(), cookie.clone())));
    Reply { status: streamed.status, headers, body: streamed.body.clone(), rest: None }
}

/// Payload 2.0: a response with `statusCode` is used as it is; any other valid JSON becomes a 200 JSON response.
pub fn http_api_response(result: &FunctionResult) -> Result<Reply, GatewayError> {
    let payload = match result {
        FunctionResult::Success(payload) => payload,
        FunctionResult::Streamed(streamed) => return Ok(streamed_reply(streamed)),
        FunctionResult::Error { .. } => return Err(GatewayError::Integration),
        // Passed on live by `streaming_reply` instead.
        FunctionResult::Streaming(_) => return Err(GatewayError::Integration),
    };
    // Most responses are structured: read straight into their fields. Anything else is looked at as a value.
    if payload.trim_ascii_start().starts_with(b"{") {
        if let Ok(response @ ProxyResponse { status_code: Some(_), .. }) = serde_json::from_slice(payload) {
            return response.reply();
        }
    }
    let Ok(value) = serde_json::from_slice::<Value>(payload) else { return Err(GatewayError::Integration) };
    match &value {
        // A structured response the fields above could not read.
        Value::Object(response) if response.contains_key("statusCode") => Err(GatewayError::Integration),
        other => {
            let body = match other {
                Value::String(text) => text.clone(),
                json => json.to_string(),
            };
            Ok(Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: Bytes::from(body),
                rest: None,
            })
        }
    }
}

/// A structured proxy response, read into its fields without building maps: payload 1.0's proxy shape, and
/// payload 2.0's structured form, which adds `cookies`. Fields are checked as API Gateway checks them: a status
/// in 100–599 (a number or a numeric string), header values that are strings, numbers or booleans, a string body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProxyResponse {
    /// `Some` whenever the field is there, `null` included: its presence makes a 2.0 response structured.
    #[serde(default, deserialize_with = "present")]
    status_code: Option<Value>,
    headers: Option<Entries<Value>>,
    multi_value_headers: Option<Entries<Vec<Value>>>,
    cookies: Option<Vec<Value>>,
    body: Option<String>,
    is_base64_encoded: Option<bool>,
}

impl ProxyResponse {
    fn reply(self) -> Result<Reply, GatewayError> {
        let status = match self.status_code {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let status = status.filter(|s| (100..=599).contains(s)).ok_or(GatewayError::Integration)? as u16;
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in self.headers.map(|h| h.0).unwrap_or_default() {
            headers.push((name.to_ascii_lowercase(), scalar(&value)?));
        }
        for (name, values) in self.multi_value_headers.map(|h| h.0).unwrap_or_default() {
            let name = name.to_ascii_lowercase();
            headers.retain(|(k, _)| *k != name);
            for value in values {
                headers.push((name.clone(), scalar(&value)?));
            }
        }
        for cookie in self.cookies.unwrap_or_default() {
            headers.push(("set-cookie".into(), scalar(&cookie)?));
        }
        let text = self.body.unwrap_or_default();
        let body = if self.is_base64_encoded.unwrap_or(false) {
            let decoded = base64::engine::general_purpose::STANDARD.decode(text.as_bytes());
            Bytes::from(decoded.map_err(|_| GatewayError::Integration)?)
        } else {
            Bytes::from(text)
        };
        Ok(Reply { status, headers, body, rest: None })
    }
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A JSON object's entries in their order, read without a map (a response's headers).
struct Entries<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

fn scalar(value: &Value) -> Result<String, GatewayError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(GatewayError::Integration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> FunctionResult {
        FunctionResult::Success(Bytes::from(json.to_string()))
    }

    #[test]
    fn rest_responses_must_have_the_proxy_shape() {
        let reply = rest_response(&ok(
            r#"{"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":"hi"}"#,
        ))
        .unwrap();
        assert_eq!(reply.status, 201);
        assert_eq!(reply.body, "hi");
        assert!(reply.headers.contains(&("x-a".into(), "1".into())));
        assert_eq!(reply.headers.iter().filter(|(k, _)| k == "set-cookie").count(), 2);
        for bad in [
            r#"{"statusCode":200,"extra":1}"#,
            r#""just a string""#,
            r#"{"body":"x"}"#,
            r#"{"statusCode":200,"body":{"a":1}}"#,
            "not json",
        ] {
            assert_eq!(rest_response(&ok(bad)), Err(GatewayError::Integration), "{bad}");
        }
        let error = FunctionResult::Error { error_type: "x".into(), payload: Bytes::new() };
        assert_eq!(rest_response(&error), Err(GatewayError::Integration));
    }

    #[test]
    fn http_api_responses_may_be_simplified() {
        let reply = http_api_response(&ok(r#"{"hello":"world"}"#)).unwrap();
        assert_eq!((reply.status, &reply.body[..]), (200, &br#"{"hello":"world"}"#[..]));
        assert_eq!(http_api_response(&ok(r#""plain""#)).unwrap().body, "plain");
        let reply = http_api_response(&ok(
            r#"{"statusCode":302,"headers":{"location":"/x"},"cookies":["a=1"],"body":"aGk=","isBase64Encoded":true}"#,
        ))
        .unwrap();
        assert_eq!((reply.status, &reply.body[..]), (302, &b"hi"[..]));
        assert!(reply.headers.contains(&("set-cookie".into(), "a=1".into())));
        assert_eq!(http_api_response(&ok("nope")), Err(GatewayError::Integration));
    }

    #[test]
    fn http_api_responses_are_structured_by_their_status_code_alone() {
        // An object without statusCode, or anything that is not an object, is the body of a 200.
        for simplified in [r#"{"body":5,"headers":[]}"#, r#"[1,{"statusCode":200}]"#, "42", " null"] {
            let reply = http_api_response(&ok(simplified)).unwrap();
            let expected = serde_json::from_str::<Value>(simplified).unwrap().to_string();
            assert_eq!((reply.status, reply.body), (200, Bytes::from(expected)), "{simplified}");
        }
        // With statusCode, every field must have its type.
        for malformed in [
            r#"{"statusCode":null}"#,
            r#"{"statusCode":700}"#,
            r#"{"statusCode":200,"headers":{"a":[1]}}"#,
            r#"{"statusCode":200,"multiValueHeaders":{"a":"b"}}"#,
            r#"{"statusCode":200,"body":{"a":1}}"#,
            r#"{"statusCode":200,"isBase64Encoded":"yes"}"#,
            r#"{"statusCode":200,"body":"!","isBase64Encoded":true}"#,
        ] {
            assert_eq!(http_api_response(&ok(malformed)), Err(GatewayError::Integration), "{malformed}");
        }
        let reply = http_api_response(&ok(
            r#" {"statusCode":"201","headers":{"X-N":1,"X-B":true,"Set-Cookie":"gone"},"multiValueHeaders":{"set-cookie":["a","b"]},"extra":{}}"#,
        ))
        .unwrap();
        assert_eq!(reply.status, 201);
        let expected = [("x-n", "1"), ("x-b", "true"), ("set-cookie", "a"), ("set-cookie", "b")];
        assert_eq!(reply.headers, expected.map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(reply.body, "");
    }
}
