//! The DynamoDB Streams API of DynamoDB Local (on the database's own port, `DynamoDBStreams_20120810.*` JSON
//! targets), called with plain JSON ([`JsonApi`]): the records it returns are exactly what Lambda passes on, so they go to the
//! function untouched rather than through typed values and back. The table's stream ARN comes from DescribeTable.

use crate::dynamodb::json_api::JsonApi;
use serde_json::{json, Value};

/// A client for one database.
#[derive(Clone)]
pub struct StreamsClient {
    api: JsonApi,
}

impl StreamsClient {
    pub fn new(endpoint: &str, region: &str) -> Self {
        Self { api: JsonApi::new(endpoint, region) }
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
        self.api.call(target, body).await.map_err(|e| e.message)
    }
}
