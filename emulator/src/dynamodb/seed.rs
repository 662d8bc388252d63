//! Seed data: `custom.dynamodb.seed` as serverless-dynamodb-local (and its maintained fork) reads it: categories
//! of `{table, sources: [files of plain JSON items], rawsources: [files of DynamoDB-JSON items]}`, each file one
//! item or a list. Items are put by key, so seeding twice leaves the same data. Files are read relative to
//! `serverless.yml`'s folder.

use crate::config::{ConfigError, Service};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One table's files to seed it from.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSource {
    pub table: String,
    /// Each file, and whether it holds DynamoDB JSON (`rawsources`) rather than plain JSON (`sources`).
    pub files: Vec<(PathBuf, bool)>,
}

/// What seeding did: items put per table.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub items: Vec<(String, usize)>,
}

/// The sources of `categories` (every category when empty), checked: an unknown category or a source without a
/// table is a located error.
pub fn sources(service: &Service, categories: &[String]) -> Result<Vec<SeedSource>, ConfigError> {
    let seed = service.custom.get("dynamodb").and_then(|d| d.get("seed"));
    let Some(Value::Object(all)) = seed else {
        return match categories.first() {
            Some(category) => Err(ConfigError::at_path(
                "custom.dynamodb.seed",
                format!("missing category in seed configuration: {category} (there is no custom.dynamodb.seed)"),
            )),
            None => Ok(Vec::new()),
        };
    };
    let chosen: Vec<&String> = if categories.is_empty() { all.keys().collect() } else { categories.iter().collect() };
    let mut out = Vec::new();
    for category in chosen {
        let path = format!("custom.dynamodb.seed.{category}");
        let definition = all.get(category.as_str()).ok_or_else(|| {
            ConfigError::at_path("custom.dynamodb.seed", format!("missing category in seed configuration: {category}"))
        })?;
        let Some(Value::Array(list)) = definition.get("sources") else {
            return Err(ConfigError::at_path(&path, "expected `sources:`, a list of {table, sources, rawsources}"));
        };
        for (i, source) in list.iter().enumerate() {
            let at = format!("{path}.sources.{i}");
            let table = source
                .get("table")
                .and_then(Value::as_str)
                .ok_or_else(|| ConfigError::at_path(&at, "seeding source \"table\" property not defined"))?;
            let mut files = Vec::new();
            for (key, raw) in [("sources", false), ("rawsources", true)] {
                for file in source.get(key).and_then(Value::as_array).into_iter().flatten() {
                    let file = file
                        .as_str()
                        .ok_or_else(|| ConfigError::at_path(format!("{at}.{key}"), "expected file paths"))?;
                    files.push((service.service_dir.join(file), raw));
                }
            }
            out.push(SeedSource { table: table.to_string(), files });
        }
    }
    Ok(out)
}

/// Puts every item of `sources` into its table at `endpoint`.
pub async fn seed(sources: &[SeedSource], endpoint: &str, region: &str) -> Result<SeedReport, String> {
    let client = super::tables::client(endpoint, region);
    let mut report = SeedReport::default();
    for source in sources {
        let mut count = 0;
        for (file, raw) in &source.files {
            for item in read_items(file, *raw)? {
                client.put_item().table_name(&source.table).set_item(Some(item)).send().await.map_err(|err| {
                    format!(
                        "cannot seed {} from {}: {}",
                        source.table,
                        file.display(),
                        aws_sdk_dynamodb::error::DisplayErrorContext(err)
                    )
                })?;
                count += 1;
            }
        }
        tracing::info!("seeded {count} items into {}", source.table);
        report.items.push((source.table.clone(), count));
    }
    Ok(report)
}

/// The items of a seed file: one object or a list of them.
fn read_items(file: &Path, raw: bool) -> Result<Vec<HashMap<String, AttributeValue>>, String> {
    let text =
        std::fs::read_to_string(file).map_err(|err| format!("source file {} cannot be read: {err}", file.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|err| format!("{}: not JSON ({err}); expected an item or a list of items", file.display()))?;
    let items = match value {
        Value::Array(items) => items,
        item => vec![item],
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(map) = item else {
                return Err(format!("{}: item {i} is not an object", file.display()));
            };
            map.iter()
                .map(|(name, value)| {
                    let attribute = if raw { raw_attribute(value) } else { Ok(attribute(value)) };
                    attribute
                        .map(|a| (name.clone(), a))
                        .map_err(|reason| format!("{}: item {i}, attribute {name}: {reason}", file.display()))
                })
                .collect()
        })
        .collect()
}

/// Plain JSON as the DocumentClient writes it: strings, numbers, booleans, null, lists and maps.
fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(attribute).collect()),
        Value::Object(map) => AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()),
    }
}

/// DynamoDB JSON: `{"S": "…"}`, `{"N": "1"}`, `{"B": "<base64>"}`, `{"BOOL": …}`, `{"NULL": true}`, `{"L": […]}`,
/// `{"M": {…}}`, `{"SS"|"NS"|"BS": […]}`.
fn raw_attribute(value: &Value) -> Result<AttributeValue, String> {
    let Some((kind, inner)) = value.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return Err(format!("expected DynamoDB JSON such as {{\"S\": \"text\"}}, found {value}"));
    };
    let text = || inner.as_str().map(String::from).ok_or_else(|| format!("{kind} takes a string"));
    let texts = || -> Result<Vec<String>, String> {
        inner
            .as_array()
            .ok_or_else(|| format!("{kind} takes a list"))?
            .iter()
            .map(|v| v.as_str().map(String::from).ok_or_else(|| format!("{kind} takes strings")))
            .collect()
    };
    let blob = |b64: &str| {
        base64::engine::general_purpose::STANDARD.decode(b64).map(Blob::new).map_err(|_| format!("{kind} takes base64"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "B" => AttributeValue::B(blob(&text()?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL takes true or false")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "BS" => AttributeValue::Bs(texts()?.iter().map(|b| blob(b)).collect::<Result<_, _>>()?),
        "L" => AttributeValue::L(
            inner.as_array().ok_or("L takes a list")?.iter().map(raw_attribute).collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(
            inner
                .as_object()
                .ok_or("M takes an object")?
                .iter()
                .map(|(k, v)| Ok((k.clone(), raw_attribute(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("unknown DynamoDB type `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_dynamodb_json_become_the_same_item() {
        let plain =
            serde_json::json!({"id": "t1", "attempts": 2, "done": false, "tags": ["a"], "meta": {"by": "seed"}});
        let raw = serde_json::json!({"id": {"S": "t1"}, "attempts": {"N": "2"}, "done": {"BOOL": false},
            "tags": {"L": [{"S": "a"}]}, "meta": {"M": {"by": {"S": "seed"}}}});
        let from_plain: HashMap<_, _> =
            plain.as_object().unwrap().iter().map(|(k, v)| (k.clone(), attribute(v))).collect();
        let from_raw: HashMap<_, _> =
            raw.as_object().unwrap().iter().map(|(k, v)| (k.clone(), raw_attribute(v).unwrap())).collect();
        assert_eq!(from_plain, from_raw);
        assert!(raw_attribute(&serde_json::json!({"X": 1})).unwrap_err().contains("unknown DynamoDB type"));
    }
}
