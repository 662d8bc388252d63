//! The DynamoDB Streams API of DynamoDB Local (on the database's own port, `DynamoDBStreams_20120810.*` JSON
//! targets), called with plain JSON: the records it returns are exactly what Lambda passes on, so they go to the
//! function untouched rather than through typed values and back. The table's stream ARN comes from DescribeTable.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// A client for one database.
#[derive(Clone)]
pub struct StreamsClient {
    endpoint: String,
    region: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl StreamsClient {
    pub fn new(endpoint: &str, region: &str) -> Self {
        let http = Client::builder(TokioExecutor::new()).build_http();
        Self { endpoint: endpoint.trim_end_matches('/').to_string(), region: region.to_string(), http }
    }

    /// The table's current stream, if it has one.
    pub async fn stream_of(&self, table: &str) -> Result<Option<String>, String> {
        let described = self.call("DynamoDB_20120810.DescribeTable", json!({ "TableName": table })).await?;
        Ok(described["Table"]["LatestStreamArn"].as_str().map(String::from))
    }

    /// The stream's shards, oldest first: `(shard id, parent shard id)`.
    pub async fn shards(&self, stream_arn: &str) -> Result<Vec<(String, Option<String>)>, String> {
        let described =
            self.call("DynamoDBStreams_20120810.DescribeStream", json!({ "StreamArn": stream_arn })).await?;
        let shards = described["StreamDescription"]["Shards"].as_array().cloned().unwrap_or_default();
        Ok(shards
            .iter()
            .filter_map(|s| Some((s["ShardId"].as_str()?.to_string(), s["ParentShardId"].as_str().map(String::from))))
            .collect())
    }

    /// An iterator: `TRIM_HORIZON`, `LATEST`, or `AFTER_SEQUENCE_NUMBER` with `after`.
    pub async fn iterator(
        &self,
        stream_arn: &str,
        shard: &str,
        kind: &str,
        after: Option<&str>,
    ) -> Result<String, String> {
        let mut request = json!({ "StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": kind });
        if let Some(sequence) = after {
            request["SequenceNumber"] = json!(sequence);
        }
        let answer = self.call("DynamoDBStreams_20120810.GetShardIterator", request).await?;
        answer["ShardIterator"].as_str().map(String::from).ok_or_else(|| format!("no shard iterator in {answer}"))
    }

    /// Up to `limit` records, and the next iterator (`None` once a closed shard is read to its end).
    pub async fn records(&self, iterator: &str, limit: u32) -> Result<(Vec<Value>, Option<String>), String> {
        let answer = self
            .call("DynamoDBStreams_20120810.GetRecords", json!({ "ShardIterator": iterator, "Limit": limit }))
            .await?;
        let records = answer["Records"].as_array().cloned().unwrap_or_default();
        Ok((records, answer["NextShardIterator"].as_str().map(String::from)))
    }

    async fn call(&self, target: &str, body: Value) -> Result<Value, String> {
        // DynamoDB Local reads the access key and region of the signature; it does not check the signature.
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=local/20260101/{}/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        );
        let request = hyper::Request::post(format!("{}/", self.endpoint))
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", authorization)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| format!("DynamoDB at {} does not answer: {e}", self.endpoint))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{target}: {status} {}", String::from_utf8_lossy(&bytes)));
        }
        Ok(value)
    }
}
