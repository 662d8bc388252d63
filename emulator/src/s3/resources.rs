//! `serverless.yml` → S3: buckets from `AWS::S3::Bucket` resources (with their `CorsConfiguration` and
//! `NotificationConfiguration`) and from functions' `s3` events, each event a notification of its function.
//! Applied at start-up and after each edit: the app's buckets get the CORS rules and notifications the file says
//! (objects are never removed by an edit).

use super::buckets::Buckets;
use super::cors::CorsRule;
use super::events::{NotificationRule, Target};
use crate::aws::names;
use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Event, Service};
use serde_json::Value;
use std::collections::BTreeMap;

/// The app's buckets, each with its CORS rules and notifications.
pub type BucketPlan = BTreeMap<String, (Vec<CorsRule>, Vec<NotificationRule>)>;

/// Creates the app's buckets and sets their CORS rules and notifications. Returns the buckets' names.
pub fn define(service: &Service, intrinsics: &Intrinsics, buckets: &Buckets) -> Result<Vec<String>, ConfigError> {
    let settings = plan(service, intrinsics)?;
    for (bucket, (cors, notifications)) in &settings {
        buckets
            .ensure(bucket)
            .map_err(|e| ConfigError::at_path("resources", format!("bucket `{bucket}` cannot be created: {e}")))?;
        buckets.set_cors(bucket, cors.clone());
        buckets.set_notifications(bucket, notifications.clone());
    }
    Ok(settings.into_keys().collect())
}

/// Reads and checks the app's buckets without creating them (a plan being checked).
pub fn plan(service: &Service, intrinsics: &Intrinsics) -> Result<BucketPlan, ConfigError> {
    let mut settings = BucketPlan::new();
    for (logical, resource) in service.resources.resources.iter().filter(|(_, r)| r.kind == "AWS::S3::Bucket") {
        let path = format!("resources.Resources.{logical}.Properties");
        let properties = intrinsics.resolve(&resource.properties, &path)?.unwrap_or(Value::Null);
        let name = intrinsics.physical_name(logical)?.to_ascii_lowercase();
        let cors = cors_rules(&properties, &format!("{path}.CorsConfiguration"))?;
        let notifications = notification_rules(&properties, &format!("{path}.NotificationConfiguration"))?;
        settings.insert(name, (cors, notifications));
    }
    for function in service.functions.values() {
        for (i, event) in function.events.iter().enumerate() {
            let Event::S3(event) = event else { continue };
            let rule = NotificationRule {
                id: format!("{}-s3-{i}", function.key),
                events: vec![event.event.clone()],
                prefix: event.prefix.clone(),
                suffix: event.suffix.clone(),
                target: Target::Function(names::lambda_arn(&service.region, &function.name)),
            };
            settings.entry(event.bucket.clone()).or_default().1.push(rule);
        }
    }
    for bucket in settings.keys() {
        check_bucket_name(bucket)
            .map_err(|why| ConfigError::at_path("resources", format!("bucket `{bucket}`: {why}")))?;
    }
    Ok(settings)
}

/// S3's bucket naming rules: 3 to 63 lower-case letters, digits, `.` and `-`, starting and ending with a letter or
/// digit.
fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    let valid = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err("expected 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit")
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// `CorsConfiguration: {CorsRules: [{AllowedOrigins, AllowedMethods, AllowedHeaders, ExposedHeaders, MaxAge, Id}]}`.
fn cors_rules(properties: &Value, path: &str) -> Result<Vec<CorsRule>, ConfigError> {
    let Some(rules) = properties.get("CorsConfiguration").and_then(|c| c.get("CorsRules")) else {
        return Ok(Vec::new());
    };
    let rules = rules
        .as_array()
        .ok_or_else(|| ConfigError::at_path(format!("{path}.CorsRules"), "expected a list of rules"))?;
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let cors = CorsRule {
                id: rule.get("Id").and_then(Value::as_str).map(String::from),
                allowed_origins: strings(rule.get("AllowedOrigins")),
                allowed_methods: strings(rule.get("AllowedMethods")),
                allowed_headers: strings(rule.get("AllowedHeaders")),
                expose_headers: strings(rule.get("ExposedHeaders")),
                max_age_seconds: rule.get("MaxAge").and_then(Value::as_i64).map(|age| age as i32),
            };
            if cors.allowed_origins.is_empty() || cors.allowed_methods.is_empty() {
                return Err(ConfigError::at_path(
                    format!("{path}.CorsRules.{i}"),
                    "expected AllowedOrigins and AllowedMethods",
                ));
            }
            Ok(cors)
        })
        .collect()
}

/// `NotificationConfiguration: {LambdaConfigurations, QueueConfigurations, TopicConfigurations}`, each entry
/// `{Event, Function | Queue | Topic, Filter: {S3Key: {Rules: [{Name: prefix | suffix, Value}]}}}`.
fn notification_rules(properties: &Value, path: &str) -> Result<Vec<NotificationRule>, ConfigError> {
    let Some(configuration) = properties.get("NotificationConfiguration") else { return Ok(Vec::new()) };
    let mut rules = Vec::new();
    for (list, field) in
        [("LambdaConfigurations", "Function"), ("QueueConfigurations", "Queue"), ("TopicConfigurations", "Topic")]
    {
        for (i, entry) in configuration.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = format!("{path}.{list}.{i}");
            let arn = entry.get(field).and_then(Value::as_str).ok_or_else(|| {
                ConfigError::at_path(format!("{at}.{field}"), "expected an ARN (such as !GetAtt …Arn)")
            })?;
            let event = entry.get("Event").and_then(Value::as_str).ok_or_else(|| {
                ConfigError::at_path(format!("{at}.Event"), "expected an event type such as s3:ObjectCreated:*")
            })?;
            let (mut prefix, mut suffix) = (None, None);
            let filters =
                entry.get("Filter").and_then(|f| f.get("S3Key")).and_then(|k| k.get("Rules")).and_then(Value::as_array);
            for rule in filters.into_iter().flatten() {
                let value = rule.get("Value").and_then(Value::as_str).map(String::from);
                let slot = match rule.get("Name").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                    Some("prefix") => &mut prefix,
                    Some("suffix") => &mut suffix,
                    _ => {
                        return Err(ConfigError::at_path(
                            format!("{at}.Filter"),
                            "expected rules named prefix or suffix",
                        ))
                    }
                };
                if slot.replace(value.unwrap_or_default()).is_some() {
                    return Err(ConfigError::at_path(
                        format!("{at}.Filter"),
                        "S3 takes at most one prefix rule and one suffix rule",
                    ));
                }
            }
            let target = match field {
                "Function" => Target::Function(arn.to_string()),
                "Queue" => Target::Queue(arn.to_string()),
                _ => Target::Topic(arn.to_string()),
            };
            rules.push(NotificationRule {
                id: format!("{list}-{i}"),
                events: vec![event.to_string()],
                prefix,
                suffix,
                target,
            });
        }
    }
    Ok(rules)
}
