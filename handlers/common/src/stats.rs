//! The app's counts of task outcomes, one item (`statsId: tasks`) in `STATS_TABLE`, kept by taskStats from the
//! tasks table's stream and served by getStats. Counts are added with DynamoDB's `ADD`, so concurrent batches add
//! up.

use crate::Error;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::Serialize;

/// The key of the one stats item.
const STATS_ID: &str = "tasks";

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    pub submitted: u64,
    pub success: u64,
    pub error: u64,
}

impl Outcomes {
    pub fn is_empty(&self) -> bool {
        *self == Outcomes::default()
    }
}

pub struct StatsStore {
    client: Client,
    table: String,
}

impl StatsStore {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        Self { client: Client::new(config), table }
    }

    /// Adds `outcomes` to the counts.
    pub async fn add(&self, outcomes: &Outcomes) -> Result<(), Error> {
        let n = |count: u64| AttributeValue::N(count.to_string());
        self.client
            .update_item()
            .table_name(&self.table)
            .key("statsId", AttributeValue::S(STATS_ID.into()))
            .update_expression("ADD submitted :submitted, success :success, #error :error")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(":submitted", n(outcomes.submitted))
            .expression_attribute_values(":success", n(outcomes.success))
            .expression_attribute_values(":error", n(outcomes.error))
            .send()
            .await?;
        Ok(())
    }

    /// The counts so far.
    pub async fn get(&self) -> Result<Outcomes, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("statsId", AttributeValue::S(STATS_ID.into()))
            .send()
            .await?;
        let item = output.item.unwrap_or_default();
        let count = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
        Ok(Outcomes { submitted: count("submitted"), success: count("success"), error: count("error") })
    }
}
