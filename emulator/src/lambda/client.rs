//! A small Invoke API client for `ftb-offline invoke`: one request to a running emulator's Lambda port.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub struct InvokeOutcome {
    pub body: Bytes,
    /// `X-Amz-Function-Error` (`Unhandled`) when the function failed.
    pub function_error: Option<String>,
    /// The decoded `X-Amz-Log-Result`, when asked for.
    pub log: Option<String>,
}

pub async fn invoke(
    host: &str,
    port: u16,
    function: &str,
    invocation_type: &str,
    tail: bool,
    payload: Vec<u8>,
) -> Result<InvokeOutcome, String> {
    let name = percent_encoding::utf8_percent_encode(function, percent_encoding::NON_ALPHANUMERIC);
    let url = format!("http://{host}:{port}/2015-03-31/functions/{name}/invocations");
    let request = hyper::Request::post(&url)
        .header("x-amz-invocation-type", invocation_type)
        .header("x-amz-log-type", if tail { "Tail" } else { "None" })
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| format!("invalid request: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.map_err(|e| {
        format!("no emulator answers on http://{host}:{port} ({e}); start one with `ftb-offline start`, or pass --lambda-port")
    })?;
    let status = response.status();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
    let function_error = header("x-amz-function-error");
    let error_type = header("x-amzn-errortype");
    let log = header("x-amz-log-result")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let body = response.into_body().collect().await.map_err(|e| format!("the response was cut off: {e}"))?.to_bytes();
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(format!("{} ({status}): {message}", error_type.unwrap_or_else(|| "error".into())));
    }
    Ok(InvokeOutcome { body, function_error, log })
}
