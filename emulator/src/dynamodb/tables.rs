//! Tables from `AWS::DynamoDB::Table` resources, created in DynamoDB Local through aws-sdk-dynamodb (what
//! serverless-dynamodb-local calls `migrate`): key schema, attribute definitions, global and local secondary
//! indexes, billing mode or provisioned throughput, streams and TTL. Idempotent: a table that exists is kept with
//! its data, and where its schema differs from the resource the differences are reported.

use super::DatabaseError;
use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Service};
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription,
    TimeToLiveSpecification,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What [`ensure_tables`] did, by table name.
#[derive(Debug, Default)]
pub struct TablesReport {
    pub created: Vec<String>,
    /// Tables that existed and match their resource.
    pub kept: Vec<String>,
    /// Tables that existed with another schema, and how it differs.
    pub differing: Vec<(String, Vec<String>)>,
}

/// A table resource's properties, as CloudFormation takes them. Other properties (Tags, SSESpecification,
/// PointInTimeRecoverySpecification, TableClass…) mean nothing locally and are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableResource {
    #[serde(default)]
    attribute_definitions: Vec<Attribute>,
    key_schema: Vec<KeyElement>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<Throughput>,
    #[serde(default)]
    global_secondary_indexes: Vec<Index>,
    #[serde(default)]
    local_secondary_indexes: Vec<Index>,
    stream_specification: Option<Stream>,
    time_to_live_specification: Option<TimeToLive>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Throughput {
    #[serde(deserialize_with = "number")]
    read_capacity_units: i64,
    #[serde(deserialize_with = "number")]
    write_capacity_units: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Index {
    index_name: String,
    key_schema: Vec<KeyElement>,
    projection: IndexProjection,
    provisioned_throughput: Option<Throughput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexProjection {
    projection_type: Option<String>,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stream {
    stream_view_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TimeToLive {
    attribute_name: String,
    #[serde(deserialize_with = "boolean")]
    enabled: bool,
}

/// A stock DynamoDB client for `endpoint`, with dummy credentials (DynamoDB Local runs with `-sharedDb`).
pub fn client(endpoint: &str, region: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("local", "local", None, None, "ftb-offline"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Creates every table of `service` that DynamoDB Local at `endpoint` does not have yet.
pub async fn ensure_tables(service: &Service, endpoint: &str) -> Result<TablesReport, DatabaseError> {
    let client = client(endpoint, &service.region);
    let endpoints = service.offline.endpoints(None, [None; 4], &service.s3);
    let intrinsics = Intrinsics::new(service, &endpoints);
    let mut report = TablesReport::default();
    for (logical, resource) in service.resources.resources.iter().filter(|(_, r)| r.kind == "AWS::DynamoDB::Table") {
        let path = format!("resources.Resources.{logical}.Properties");
        let located =
            |message: String| DatabaseError::Tables(service.locate(ConfigError::at_path(&path, message)).to_string());
        let config_error = |err: ConfigError| DatabaseError::Tables(service.locate(err).to_string());
        let properties = intrinsics.resolve(&resource.properties, &path).map_err(config_error)?.unwrap_or(Value::Null);
        let table: TableResource = crate::config::typed(properties, &path).map_err(config_error)?;
        let name = intrinsics.physical_name(logical).map_err(config_error)?;
        match create(&client, &name, &table).await {
            Ok(()) => {
                tracing::info!("created the DynamoDB table {name}");
                report.created.push(name);
            }
            Err(Create::Exists) => {
                let existing = describe(&client, &name).await.map_err(located)?;
                let differences = differences(&table, &existing);
                if differences.is_empty() {
                    tracing::info!("the DynamoDB table {name} exists; keeping it and its data");
                    report.kept.push(name);
                } else {
                    tracing::warn!(
                        "the DynamoDB table {name} exists with another schema than {logical} in serverless.yml ({}); \
                         keeping it and its data. To recreate it, delete it (`aws dynamodb delete-table --table-name \
                         {name} --endpoint-url {endpoint}`) and start again",
                        differences.join("; ")
                    );
                    report.differing.push((name, differences));
                }
            }
            Err(Create::Rejected(message)) => {
                return Err(located(format!("DynamoDB Local refused the table {name}: {message}")));
            }
            Err(Create::Unreachable(message)) => {
                return Err(DatabaseError::Tables(format!(
                    "cannot create the table {name}: DynamoDB Local at {endpoint} did not answer ({message})"
                )));
            }
        }
    }
    Ok(report)
}

enum Create {
    Exists,
    Rejected(String),
    Unreachable(String),
}

async fn create(client: &aws_sdk_dynamodb::Client, name: &str, table: &TableResource) -> Result<(), Create> {
    let request = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attributes(&table.attribute_definitions).map_err(rejected)?))
        .set_key_schema(Some(key_schema(&table.key_schema).map_err(rejected)?))
        .set_global_secondary_indexes(non_empty(global_indexes(&table.global_secondary_indexes).map_err(rejected)?))
        .set_local_secondary_indexes(non_empty(local_indexes(&table.local_secondary_indexes).map_err(rejected)?))
        .set_stream_specification(stream(table.stream_specification.as_ref()).map_err(rejected)?);
    let request = match table.billing_mode.as_deref() {
        Some("PAY_PER_REQUEST") => request.billing_mode(BillingMode::PayPerRequest),
        _ => request
            .billing_mode(BillingMode::Provisioned)
            .set_provisioned_throughput(throughput(table.provisioned_throughput.as_ref()).map_err(rejected)?),
    };
    match request.send().await {
        Ok(_) => {}
        Err(err) => {
            return Err(match err.as_service_error() {
                Some(CreateTableError::ResourceInUseException(_)) => Create::Exists,
                Some(service_error) => Create::Rejected(format!(
                    "{}: {}",
                    service_error.code().unwrap_or("error"),
                    service_error.message().unwrap_or("no message")
                )),
                None => Create::Unreachable(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string()),
            })
        }
    }
    if let Some(ttl) = table.time_to_live_specification.as_ref().filter(|t| t.enabled) {
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(&ttl.attribute_name)
            .enabled(true)
            .build()
            .map_err(rejected)?;
        client.update_time_to_live().table_name(name).time_to_live_specification(specification).send().await.map_err(
            |err| Create::Rejected(format!("TimeToLiveSpecification: {}", err.message().unwrap_or("refused"))),
        )?;
    }
    Ok(())
}

async fn describe(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<TableDescription, String> {
    let output = client.describe_table().table_name(name).send().await.map_err(|err| {
        format!("cannot describe the existing table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))
    })?;
    output.table.ok_or_else(|| format!("DescribeTable returned no table for {name}"))
}

/// How an existing table differs from its resource: keys, indexes and streams (what cannot change in place).
pub fn differences(wanted: &TableResource, existing: &TableDescription) -> Vec<String> {
    let mut found = Vec::new();
    let wanted_keys = describe_keys(wanted.key_schema.iter().map(|k| (k.attribute_name.as_str(), k.key_type.as_str())));
    let existing_keys =
        describe_keys(existing.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())));
    if wanted_keys != existing_keys {
        found.push(format!("key schema is {existing_keys}, serverless.yml has {wanted_keys}"));
    }
    let wanted_gsis: BTreeMap<&str, String> = wanted.global_secondary_indexes.iter().map(index_keys).collect();
    let existing_gsis: BTreeMap<&str, String> = existing
        .global_secondary_indexes()
        .iter()
        .map(|i| (i.index_name().unwrap_or(""), describe_keys(i.key_schema().iter().map(element_parts))))
        .collect();
    compare_indexes("global secondary", &wanted_gsis, &existing_gsis, &mut found);
    let wanted_lsis: BTreeMap<&str, String> = wanted.local_secondary_indexes.iter().map(index_keys).collect();
    let existing_lsis: BTreeMap<&str, String> = existing
        .local_secondary_indexes()
        .iter()
        .map(|i| (i.index_name().unwrap_or(""), describe_keys(i.key_schema().iter().map(element_parts))))
        .collect();
    compare_indexes("local secondary", &wanted_lsis, &existing_lsis, &mut found);
    let wanted_stream = wanted.stream_specification.as_ref().map(|s| s.stream_view_type.as_str());
    let existing_stream = existing
        .stream_specification()
        .filter(|s| s.stream_enabled())
        .and_then(|s| s.stream_view_type())
        .map(|t| t.as_str());
    if wanted_stream != existing_stream {
        found.push(format!(
            "stream is {}, serverless.yml has {}",
            existing_stream.unwrap_or("off"),
            wanted_stream.unwrap_or("off")
        ));
    }
    found
}

fn compare_indexes(
    kind: &str,
    wanted: &BTreeMap<&str, String>,
    existing: &BTreeMap<&str, String>,
    found: &mut Vec<String>,
) {
    for (name, keys) in wanted {
        match existing.get(name) {
            None => found.push(format!("{kind} index {name} is missing")),
            Some(actual) if actual != keys => {
                found.push(format!("{kind} index {name} has keys {actual}, serverless.yml has {keys}"))
            }
            Some(_) => {}
        }
    }
    for name in existing.keys().filter(|name| !wanted.contains_key(*name)) {
        found.push(format!("{kind} index {name} is not in serverless.yml"));
    }
}

fn index_keys(index: &Index) -> (&str, String) {
    (
        index.index_name.as_str(),
        describe_keys(index.key_schema.iter().map(|k| (k.attribute_name.as_str(), k.key_type.as_str()))),
    )
}

fn element_parts(element: &KeySchemaElement) -> (&str, &str) {
    (element.attribute_name(), element.key_type().as_str())
}

/// `taskId HASH, createdAt RANGE`.
fn describe_keys<'a>(keys: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    keys.map(|(name, kind)| format!("{name} {kind}")).collect::<Vec<_>>().join(", ")
}

fn attributes(definitions: &[Attribute]) -> Result<Vec<AttributeDefinition>, BuildError> {
    definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
        })
        .collect()
}

fn key_schema(keys: &[KeyElement]) -> Result<Vec<KeySchemaElement>, BuildError> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
        })
        .collect()
}

fn projection(projection: &IndexProjection) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(projection.projection_type.as_deref().unwrap_or("ALL")))
        .set_non_key_attributes(non_empty(projection.non_key_attributes.clone()))
        .build()
}

fn global_indexes(indexes: &[Index]) -> Result<Vec<GlobalSecondaryIndex>, BuildError> {
    indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(projection(&index.projection))
                .set_provisioned_throughput(throughput(index.provisioned_throughput.as_ref())?)
                .build()
        })
        .collect()
}

fn local_indexes(indexes: &[Index]) -> Result<Vec<LocalSecondaryIndex>, BuildError> {
    indexes
        .iter()
        .map(|index| {
            LocalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(projection(&index.projection))
                .build()
        })
        .collect()
}

fn throughput(throughput: Option<&Throughput>) -> Result<Option<ProvisionedThroughput>, BuildError> {
    throughput
        .map(|t| {
            ProvisionedThroughput::builder()
                .read_capacity_units(t.read_capacity_units)
                .write_capacity_units(t.write_capacity_units)
                .build()
        })
        .transpose()
}

fn stream(stream: Option<&Stream>) -> Result<Option<StreamSpecification>, BuildError> {
    stream
        .map(|s| {
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(s.stream_view_type.as_str()))
                .build()
        })
        .transpose()
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn rejected(err: BuildError) -> Create {
    Create::Rejected(err.to_string())
}

/// CloudFormation takes numbers as numbers or strings (`ReadCapacityUnits: "5"`).
fn number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().expect("checked")),
        Value::String(s) => {
            s.trim().parse().map_err(|_| serde::de::Error::custom(format!("expected a whole number, found \"{s}\"")))
        }
        other => Err(serde::de::Error::custom(format!("expected a whole number, found {other}"))),
    }
}

/// CloudFormation takes booleans as booleans or strings (`Enabled: "true"`).
fn boolean<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(serde::de::Error::custom(format!("expected true or false, found {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(value: Value) -> TableResource {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn capacity_may_be_written_as_strings() {
        let table = resource(json!({
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": "5", "WriteCapacityUnits": 2},
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": "true"}
        }));
        let throughput = table.provisioned_throughput.unwrap();
        assert_eq!((throughput.read_capacity_units, throughput.write_capacity_units), (5, 2));
        assert!(table.time_to_live_specification.unwrap().enabled);
    }

    #[test]
    fn a_missing_key_schema_is_an_error_naming_it() {
        let err = serde_json::from_value::<TableResource>(json!({"AttributeDefinitions": []})).unwrap_err();
        assert!(err.to_string().contains("KeySchema"), "{err}");
    }

    #[test]
    fn differences_name_keys_indexes_and_streams() {
        let wanted = resource(json!({
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{
                "IndexName": "byStatus",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}
            }],
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}
        }));
        let existing = TableDescription::builder()
            .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
            .build();
        let found = differences(&wanted, &existing);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("key schema is pk HASH, serverless.yml has id HASH"));
        assert!(found[1].contains("global secondary index byStatus is missing"));
        assert!(found[2].contains("stream is off, serverless.yml has NEW_IMAGE"));
    }
}
