//! `serverless.yml` → SNS: topics from `AWS::SNS::Topic` resources (with their inline `Subscription` list),
//! subscriptions from `AWS::SNS::Subscription` resources and from functions' `sns` events, intrinsics resolved
//! (`!Ref Topic` is the topic's ARN, `!GetAtt Queue.Arn` a queue's). A topic an `sns` event names and nothing
//! defines is created, as Serverless creates it.

use super::service::Sns;
use crate::aws::names;
use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Event, Service, SnsEvent};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What the app defines, by ARN: so a live edit can remove what it no longer defines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Defined {
    pub topics: BTreeSet<String>,
    pub subscriptions: BTreeSet<String>,
}

/// Creates (or brings to their definition) the topics and subscriptions of `service`.
pub fn define(service: &Service, intrinsics: &Intrinsics, sns: &Sns) -> Result<Defined, ConfigError> {
    let mut defined = Defined::default();
    let home = sns.home().clone();
    let resources = &service.resources.resources;
    for (logical, resource) in resources.iter().filter(|(_, r)| r.kind == "AWS::SNS::Topic") {
        let path = format!("resources.Resources.{logical}.Properties");
        let properties = intrinsics.resolve(&resource.properties, &path)?.unwrap_or(Value::Null);
        let name = intrinsics.physical_name(logical)?;
        let topic = sns
            .define_topic(
                &home,
                &name,
                &topic_attributes(&properties),
                &crate::config::resource_tags(&properties, &path)?,
            )
            .map_err(|err| ConfigError::at_path(&path, format!("the topic cannot be created: {}", err.message)))?;
        for (i, inline) in properties.get("Subscription").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = format!("{path}.Subscription.{i}");
            let (protocol, endpoint) = (text(inline, "Protocol", &at)?, text(inline, "Endpoint", &at)?);
            let subscription = sns
                .define_subscription(&topic.arn, &protocol, &endpoint, &BTreeMap::new())
                .map_err(|err| ConfigError::at_path(&at, err.message))?;
            defined.subscriptions.insert(subscription.arn);
        }
        defined.topics.insert(topic.arn);
    }
    for (logical, resource) in resources.iter().filter(|(_, r)| r.kind == "AWS::SNS::Subscription") {
        let path = format!("resources.Resources.{logical}.Properties");
        let properties = intrinsics.resolve(&resource.properties, &path)?.unwrap_or(Value::Null);
        let topic_arn = text(&properties, "TopicArn", &path)?;
        let (protocol, endpoint) = (text(&properties, "Protocol", &path)?, text(&properties, "Endpoint", &path)?);
        let subscription = sns
            .define_subscription(&topic_arn, &protocol, &endpoint, &subscription_attributes(&properties))
            .map_err(|err| ConfigError::at_path(&path, err.message))?;
        defined.subscriptions.insert(subscription.arn);
    }
    for function in service.functions.values() {
        for (i, event) in function.events.iter().enumerate() {
            let Event::Sns(event) = event else { continue };
            let path = format!("functions.{}.events.{i}.sns", function.key);
            let topic_arn = event_topic(service, intrinsics, sns, event, &path, &mut defined)?;
            let endpoint = names::lambda_arn(&service.region, &function.name);
            let attributes = event_attributes(intrinsics, event, &path)?;
            let subscription = sns
                .define_subscription(&topic_arn, "lambda", &endpoint, &attributes)
                .map_err(|err| ConfigError::at_path(&path, err.message))?;
            defined.subscriptions.insert(subscription.arn);
        }
    }
    Ok(defined)
}

/// The topic an `sns` event subscribes to: its resolved ARN, created when nothing defines it.
fn event_topic(
    service: &Service,
    intrinsics: &Intrinsics,
    sns: &Sns,
    event: &SnsEvent,
    path: &str,
    defined: &mut Defined,
) -> Result<String, ConfigError> {
    let name = event.topic_name.clone().unwrap_or_default();
    let arn = match &event.arn {
        Some(arn) => intrinsics.resolve_string(arn, &format!("{path}.arn"))?,
        None => names::topic_arn(&service.region, &name),
    };
    if defined.topics.contains(&arn) {
        return Ok(arn);
    }
    let (region, account, name) = names::parse_topic_arn(&arn)
        .ok_or_else(|| ConfigError::at_path(format!("{path}.arn"), format!("expected a topic ARN, found `{arn}`")))?;
    let place = crate::aws::caller::Caller { account: account.to_string(), region: region.to_string() };
    let mut attributes = BTreeMap::new();
    if let Some(display) = &event.display_name {
        attributes.insert("DisplayName".to_string(), display.clone());
    }
    if name.ends_with(".fifo") {
        attributes.insert("FifoTopic".to_string(), "true".to_string());
    }
    sns.define_topic(&place, name, &attributes, &BTreeMap::new())
        .map_err(|err| ConfigError::at_path(path, format!("the topic cannot be created: {}", err.message)))?;
    defined.topics.insert(arn.clone());
    Ok(arn)
}

/// An `sns` event's filter policy, its scope and its redrive policy, as subscription attributes.
fn event_attributes(
    intrinsics: &Intrinsics,
    event: &SnsEvent,
    path: &str,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut attributes = BTreeMap::new();
    if let Some(policy) = &event.filter_policy {
        attributes.insert("FilterPolicy".into(), policy.to_string());
    }
    if let Some(scope) = &event.filter_policy_scope {
        attributes.insert("FilterPolicyScope".into(), scope.clone());
    }
    if let Some(redrive) = &event.redrive_policy {
        let at = format!("{path}.redrivePolicy");
        let target = match (redrive.get("deadLetterTargetArn"), redrive.get("deadLetterTargetRef")) {
            (Some(arn), _) => intrinsics.resolve_string(arn, &format!("{at}.deadLetterTargetArn"))?,
            (None, Some(Value::String(logical))) => intrinsics
                .resolve_string(&json!({"Fn::GetAtt": [logical, "Arn"]}), &format!("{at}.deadLetterTargetRef"))?,
            _ => {
                return Err(ConfigError::at_path(
                    &at,
                    "expected deadLetterTargetArn or deadLetterTargetRef (deadLetterTargetImport is not emulated)",
                ))
            }
        };
        attributes.insert("RedrivePolicy".into(), json!({"deadLetterTargetArn": target}).to_string());
    }
    Ok(attributes)
}

/// The properties of an `AWS::SNS::Topic` that are topic attributes (`FifoTopic: false` is the default, left out).
fn topic_attributes(properties: &Value) -> BTreeMap<String, String> {
    const NAMES: [&str; 9] = [
        "DisplayName",
        "KmsMasterKeyId",
        "SignatureVersion",
        "TracingConfig",
        "FifoTopic",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "DataProtectionPolicy",
        "DeliveryPolicy",
    ];
    let mut attributes = crate::config::properties_as_attributes(properties, NAMES);
    if attributes.get("FifoTopic").is_some_and(|v| v == "false") {
        attributes.remove("FifoTopic");
    }
    attributes
}

/// The properties of an `AWS::SNS::Subscription` that are subscription attributes; policies given as objects
/// become their JSON text.
fn subscription_attributes(properties: &Value) -> BTreeMap<String, String> {
    const NAMES: [&str; 6] = [
        "RawMessageDelivery",
        "FilterPolicy",
        "FilterPolicyScope",
        "RedrivePolicy",
        "DeliveryPolicy",
        "SubscriptionRoleArn",
    ];
    crate::config::properties_as_attributes(properties, NAMES)
}

fn text(value: &Value, key: &str, path: &str) -> Result<String, ConfigError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| ConfigError::at_path(format!("{path}.{key}"), "expected a string"))
}
