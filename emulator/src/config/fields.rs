//! Reading the fields of `serverless.yml`'s events and settings once variables are resolved: strings, string lists
//! (`a, b` or `[a, b]`), booleans written as strings, and maps that are CloudFormation intrinsics. Errors name
//! the key path.

use super::error::ConfigError;
use super::variables::kind_of;
use serde::Deserialize;
use serde_json::Value;

/// A string; `this key is required` when absent.
pub fn required_str<'v>(value: Option<&'v Value>, path: &str) -> Result<&'v str, ConfigError> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ConfigError::at_path(path, format!("expected a string, found {}", kind_of(other)))),
        None => Err(ConfigError::at_path(path, "this key is required")),
    }
}

/// A string, or nothing when absent or `null`.
pub fn optional_str<'v>(value: Option<&'v Value>, path: &str) -> Result<Option<&'v str>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        some => required_str(some, path).map(Some),
    }
}

/// `a, b` or `[a, b]`; nothing when absent or `null`.
pub fn string_list(value: Option<&Value>, path: &str) -> Result<Vec<String>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| required_str(Some(item), &format!("{path}.{i}")).map(String::from))
            .collect(),
        Some(other) => {
            Err(ConfigError::at_path(path, format!("expected a string or a list of strings, found {}", kind_of(other))))
        }
    }
}

/// `{"Fn::GetAtt": …}` or `{"Ref": …}`: a value CloudFormation computes.
pub fn is_intrinsic(map: &serde_json::Map<String, Value>) -> bool {
    map.len() == 1 && map.keys().next().is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

/// A boolean, also written as `"true"`/`"false"`: Serverless variables (`${param:…}`, `${env:…}`) give strings.
pub fn lenient_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        other => Err(serde::de::Error::custom(format!("invalid value {other}, expected true or false"))),
    }
}
