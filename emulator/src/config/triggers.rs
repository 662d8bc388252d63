//! The `schedule`, `stream`, `sns` and `s3` events of a function: the triggers that come from no client's request
//! (an EventBridge rule, a DynamoDB stream, an SNS topic, a bucket), parsed as Serverless v3 takes them. Their expressions and ARNs are
//! checked where they run ([`crate::schedule`], [`crate::streams`]), with the located error built there.

use super::error::ConfigError;
use super::fields::{optional_str, string_list};
use super::model::{S3Event, ScheduleEvent, SnsEvent, StreamEvent};
use super::variables::kind_of;
use serde_json::Value;

/// `stream: <arn>` or `{type: dynamodb, arn, batchSize, startingPosition, enabled, maximumRetryAttempts,
/// functionResponseType, …}`, as Serverless v3 takes it. `None` for a Kinesis stream, which is not emulated.
pub(super) fn parse_stream(value: &Value, path: &str) -> Result<Option<StreamEvent>, ConfigError> {
    let (arn, map) = match value {
        Value::String(_) => (value.clone(), None),
        Value::Object(map) => {
            let arn = map.get("arn").cloned().ok_or_else(|| {
                ConfigError::at_path(
                    format!("{path}.arn"),
                    "expected the stream's ARN (such as !GetAtt TasksTable.StreamArn)",
                )
            })?;
            (arn, Some(map))
        }
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected a stream ARN or an object, found {}", kind_of(other)),
            ))
        }
    };
    let kind = map
        .and_then(|m| m.get("type"))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| arn.as_str().and_then(|a| a.split(':').nth(2)).map(String::from));
    match kind.as_deref() {
        Some("dynamodb") => {}
        Some("kinesis") => return Ok(None),
        _ => return Err(ConfigError::at_path(path, "expected `type: dynamodb` (needed when the ARN is an intrinsic)")),
    }
    let number = |key: &str, default: i64| -> Result<i64, ConfigError> {
        match map.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_i64().ok_or_else(|| {
                ConfigError::at_path(format!("{path}.{key}"), format!("expected a whole number, found {v}"))
            }),
        }
    };
    let from_latest = match map.and_then(|m| m.get("startingPosition")).and_then(Value::as_str) {
        None | Some("TRIM_HORIZON") => false,
        Some("LATEST") => true,
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.startingPosition"),
                format!("expected TRIM_HORIZON or LATEST, found `{other}`"),
            ))
        }
    };
    let batch_size = number("batchSize", 10)?;
    if !(1..=10_000).contains(&batch_size) {
        return Err(ConfigError::at_path(
            format!("{path}.batchSize"),
            format!("expected 1 to 10000, found {batch_size}"),
        ));
    }
    let window = number("maximumBatchingWindow", 0)?;
    if !(0..=300).contains(&window) {
        return Err(ConfigError::at_path(
            format!("{path}.maximumBatchingWindow"),
            format!("expected 0 to 300 seconds, found {window}"),
        ));
    }
    Ok(Some(StreamEvent {
        arn,
        batch_size: batch_size as u32,
        maximum_batching_window_seconds: window as u32,
        from_latest,
        enabled: map.and_then(|m| m.get("enabled")).and_then(Value::as_bool).unwrap_or(true),
        maximum_retry_attempts: number("maximumRetryAttempts", -1)?,
        report_batch_item_failures: map.and_then(|m| m.get("functionResponseType")).and_then(Value::as_str)
            == Some("ReportBatchItemFailures"),
        bisect_batch_on_function_error: map
            .and_then(|m| m.get("bisectBatchOnFunctionError"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        filter_patterns: match map.and_then(|m| m.get("filterPatterns")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(patterns)) => patterns.clone(),
            Some(other) => {
                return Err(ConfigError::at_path(
                    format!("{path}.filterPatterns"),
                    format!("expected a list of patterns, found {}", kind_of(other)),
                ))
            }
        },
    }))
}

/// `schedule: rate(5 minutes)`, or `{rate: <expression or list>, enabled, input, inputPath, inputTransformer,
/// name, description, method: eventBus | scheduler, timezone}`, as Serverless v3 takes it.
pub(super) fn parse_schedule(value: &Value, path: &str) -> Result<ScheduleEvent, ConfigError> {
    let expressions_of = |value: &Value, at: &str| -> Result<Vec<String>, ConfigError> {
        match value {
            Value::String(text) => Ok(vec![text.clone()]),
            Value::Array(_) => string_list(Some(value), at),
            other => Err(ConfigError::at_path(
                at,
                format!("expected rate(…) or cron(…), or a list of them, found {}", kind_of(other)),
            )),
        }
    };
    let map = match value {
        Value::Object(map) => map,
        other => {
            return Ok(ScheduleEvent {
                expressions: expressions_of(other, path)?,
                enabled: true,
                input: None,
                input_path: None,
                input_transformer: None,
                name: None,
                scheduler: false,
                timezone: None,
            })
        }
    };
    let text = |key: &str| optional_str(map.get(key), &format!("{path}.{key}")).map(|s| s.map(String::from));
    let rate =
        map.get("rate").ok_or_else(|| ConfigError::at_path(format!("{path}.rate"), "expected rate(…) or cron(…)"))?;
    let scheduler = match text("method")?.as_deref() {
        None | Some("eventBus") => false,
        Some("scheduler") => true,
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.method"),
                format!("expected eventBus or scheduler, found `{other}`"),
            ))
        }
    };
    let event = ScheduleEvent {
        expressions: expressions_of(rate, &format!("{path}.rate"))?,
        enabled: map.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        input: map.get("input").cloned(),
        input_path: text("inputPath")?,
        input_transformer: map.get("inputTransformer").cloned(),
        name: text("name")?,
        scheduler,
        timezone: text("timezone")?,
    };
    // Serverless v3's own checks (compile/events/schedule.js).
    let shapes = [event.input.is_some(), event.input_path.is_some(), event.input_transformer.is_some()];
    if shapes.iter().filter(|given| **given).count() > 1 {
        return Err(ConfigError::at_path(path, "give only one of input, inputPath and inputTransformer"));
    }
    if scheduler && (event.input_path.is_some() || event.input_transformer.is_some()) {
        return Err(ConfigError::at_path(path, "method: scheduler takes input, not inputPath or inputTransformer"));
    }
    if event.timezone.is_some() && !scheduler {
        return Err(ConfigError::at_path(format!("{path}.timezone"), "timezone needs method: scheduler"));
    }
    if event.name.is_some() && event.expressions.len() > 1 {
        return Err(ConfigError::at_path(format!("{path}.name"), "a name cannot be given to several rates"));
    }
    Ok(event)
}

/// `sns: <topic name>`, `sns: <topic ARN>`, or `{arn, topicName, displayName, filterPolicy, filterPolicyScope,
/// redrivePolicy}`, as Serverless v3 takes it (docs `events/sns.md`): with an `arn` given as an intrinsic, the
/// `topicName` is required.
pub(super) fn parse_sns(value: &Value, path: &str) -> Result<SnsEvent, ConfigError> {
    let topic_of_arn = |arn: &str| arn.rsplit(':').next().map(String::from);
    let map = match value {
        Value::String(text) if text.starts_with("arn:") => {
            return Ok(SnsEvent { arn: Some(value.clone()), topic_name: topic_of_arn(text), ..sns_defaults() })
        }
        Value::String(name) => return Ok(SnsEvent { topic_name: Some(name.clone()), ..sns_defaults() }),
        Value::Object(map) => map,
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected a topic name, a topic ARN or an object, found {}", kind_of(other)),
            ))
        }
    };
    let text = |key: &str| optional_str(map.get(key), &format!("{path}.{key}")).map(|s| s.map(String::from));
    let arn = map.get("arn").filter(|v| !v.is_null()).cloned();
    let topic_name = text("topicName")?.or_else(|| arn.as_ref().and_then(Value::as_str).and_then(topic_of_arn));
    if topic_name.is_none() {
        let why = if arn.is_some() {
            "topicName is required when arn is an intrinsic function"
        } else {
            "expected arn or topicName"
        };
        return Err(ConfigError::at_path(path, why));
    }
    let filter_policy = match map.get("filterPolicy") {
        None | Some(Value::Null) => None,
        Some(policy @ Value::Object(_)) => Some(policy.clone()),
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.filterPolicy"),
                format!("expected an object such as {{pet: [dog, cat]}}, found {}", kind_of(other)),
            ))
        }
    };
    let filter_policy_scope = text("filterPolicyScope")?;
    if let Some(scope) = filter_policy_scope.as_deref().filter(|s| !["MessageAttributes", "MessageBody"].contains(s)) {
        return Err(ConfigError::at_path(
            format!("{path}.filterPolicyScope"),
            format!("expected MessageAttributes or MessageBody, found `{scope}`"),
        ));
    }
    Ok(SnsEvent {
        arn,
        topic_name,
        display_name: text("displayName")?,
        filter_policy,
        filter_policy_scope,
        redrive_policy: map.get("redrivePolicy").filter(|v| !v.is_null()).cloned(),
    })
}

fn sns_defaults() -> SnsEvent {
    SnsEvent {
        arn: None,
        topic_name: None,
        display_name: None,
        filter_policy: None,
        filter_policy_scope: None,
        redrive_policy: None,
    }
}

/// `s3: <bucket>`, or `{bucket, event, rules: [{prefix}, {suffix}], existing, forceDeploy}`, as Serverless v3 takes
/// it (docs `events/s3.md`): the event defaults to `s3:ObjectCreated:*`, and a filter has at most one prefix and
/// one suffix rule (as S3 allows).
pub(super) fn parse_s3(value: &Value, path: &str) -> Result<S3Event, ConfigError> {
    let map = match value {
        Value::String(bucket) => {
            return Ok(S3Event {
                bucket: bucket.clone(),
                event: DEFAULT_S3_EVENT.into(),
                prefix: None,
                suffix: None,
                existing: false,
            })
        }
        Value::Object(map) => map,
        other => {
            return Err(ConfigError::at_path(
                path,
                format!("expected a bucket name or an object, found {}", kind_of(other)),
            ))
        }
    };
    let text = |key: &str| optional_str(map.get(key), &format!("{path}.{key}")).map(|s| s.map(String::from));
    let bucket =
        text("bucket")?.ok_or_else(|| ConfigError::at_path(format!("{path}.bucket"), "expected the bucket's name"))?;
    let event = text("event")?.unwrap_or_else(|| DEFAULT_S3_EVENT.into());
    if !event.starts_with("s3:") {
        return Err(ConfigError::at_path(
            format!("{path}.event"),
            format!("expected an S3 event type such as s3:ObjectCreated:*, found `{event}`"),
        ));
    }
    let (mut prefix, mut suffix) = (None, None);
    let rules = match map.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(rules)) => rules.clone(),
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.rules"),
                format!("expected a list such as [{{prefix: uploads/}}], found {}", kind_of(other)),
            ))
        }
    };
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("{path}.rules.{i}");
        let (slot, value) = match (rule.get("prefix"), rule.get("suffix")) {
            (Some(Value::String(p)), None) => (&mut prefix, p),
            (None, Some(Value::String(s))) => (&mut suffix, s),
            _ => return Err(ConfigError::at_path(&at, "expected {prefix: …} or {suffix: …}")),
        };
        if slot.replace(value.clone()).is_some() {
            return Err(ConfigError::at_path(&at, "S3 takes at most one prefix rule and one suffix rule"));
        }
    }
    Ok(S3Event {
        bucket,
        event,
        prefix,
        suffix,
        existing: map.get("existing").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The event an `s3` event notifies when it names none (Serverless v3, `compile/events/s3`).
const DEFAULT_S3_EVENT: &str = "s3:ObjectCreated:*";
