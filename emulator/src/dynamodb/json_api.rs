//! DynamoDB Local's JSON API (`DynamoDB_20120810.*` and `DynamoDBStreams_20120810.*` targets) called with plain
//! JSON, for callers that pass DynamoDB's documents on as they are: the stream mappings (records go to the function
//! untouched) and the web console (items shown and edited in DynamoDB JSON). Typed calls use aws-sdk-dynamodb.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A client for one database.
#[derive(Clone)]
pub struct JsonApi {
    endpoint: String,
    region: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// A call that failed: the database did not answer, or answered with an error document.
#[derive(Debug)]
pub struct CallError {
    /// The HTTP status DynamoDB answered with; `None` when it did not answer.
    pub status: Option<u16>,
    /// DynamoDB's error document, or what went wrong.
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl JsonApi {
    pub fn new(endpoint: &str, region: &str) -> Self {
        let http = Client::builder(TokioExecutor::new()).build_http();
        Self { endpoint: endpoint.trim_end_matches('/').to_string(), region: region.to_string(), http }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls `target` (`DynamoDB_20120810.Scan`) with `body`; DynamoDB's answer.
    pub async fn call(&self, target: &str, body: Value) -> Result<Value, CallError> {
        // DynamoDB Local reads the access key and region of the signature; it does not check the signature.
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=local/20260101/{}/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        );
        let failed = |message: String| CallError { status: None, message };
        let request = hyper::Request::post(format!("{}/", self.endpoint))
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", authorization)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| failed(e.to_string()))?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| failed(format!("DynamoDB at {} does not answer: {e}", self.endpoint)))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| failed(e.to_string()))?.to_bytes();
        if !status.is_success() {
            let message = format!("{target}: {status} {}", String::from_utf8_lossy(&bytes));
            return Err(CallError { status: Some(status.as_u16()), message });
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}
