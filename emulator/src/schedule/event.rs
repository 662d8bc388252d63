//! What a schedule delivers to its function, as EventBridge sends it: the "Scheduled Event" of a rule, or the
//! EventBridge Scheduler form (`method: scheduler`, `source: aws.scheduler`, `detail` a string); or instead the
//! target's `input` (constant JSON), `inputPath` (a part of the event) or `inputTransformer` (values picked from
//! the event into a template). Pure.

use crate::aws::names::{event_rule_arn, scheduler_schedule_arn, ACCOUNT_ID};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// How the rule's target shapes the event (the `schedule` event's `input`, `inputPath`, `inputTransformer`).
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Event,
    Input(Value),
    InputPath(String),
    Transformer { paths: Vec<(String, String)>, template: String },
}

/// Which service runs the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    EventBus,
    Scheduler,
}

/// The payload for a run at `time` of the rule or schedule `name`.
pub fn payload(method: Method, target: &Target, name: &str, region: &str, time: DateTime<Utc>) -> Bytes {
    let event = match method {
        Method::EventBus => envelope("aws.events", event_rule_arn(region, name), json!({}), region, time),
        Method::Scheduler => envelope("aws.scheduler", scheduler_schedule_arn(region, name), json!("{}"), region, time),
    };
    match target {
        Target::Event => Bytes::from(event.to_string()),
        Target::Input(input) => Bytes::from(input.to_string()),
        Target::InputPath(path) => Bytes::from(select(&event, path).unwrap_or(Value::Null).to_string()),
        Target::Transformer { paths, template } => {
            let mut text = template.clone();
            for (name, path) in paths {
                let value = select(&event, path).unwrap_or(Value::Null);
                // Strings go in as their text (the template quotes them if it wants JSON strings).
                let replacement = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                text = text.replace(&format!("<{name}>"), &replacement);
            }
            Bytes::from(text)
        }
    }
}

fn envelope(source: &str, resource: String, detail: Value, region: &str, time: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": ACCOUNT_ID,
        "time": time.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": region,
        "resources": [resource],
        "detail": detail,
    })
}

/// A JSONPath of the simple kind EventBridge takes: `$`, `$.a.b`, `$.list[0]`.
pub fn select(event: &Value, path: &str) -> Option<Value> {
    let rest = path.strip_prefix('$')?;
    let mut current = event;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, i)| (k, i));
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current.clone())
}

/// Checks a JSONPath before it is used.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.starts_with('$') {
        Ok(())
    } else {
        Err(format!("expected a JSONPath starting with `$` (such as `$.detail`), found `{path}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-05T12:00:00.250Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_rule_sends_the_scheduled_event_and_a_scheduler_its_own_form() {
        let event: Value =
            serde_json::from_slice(&payload(Method::EventBus, &Target::Event, "r", "eu-north-1", time())).unwrap();
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2026-12-05T12:00:00Z", "no milliseconds");
        assert_eq!(event["resources"], json!(["arn:aws:events:eu-north-1:000000000000:rule/r"]));
        assert_eq!(event["detail"], json!({}));
        let scheduled: Value =
            serde_json::from_slice(&payload(Method::Scheduler, &Target::Event, "s", "eu-north-1", time())).unwrap();
        assert_eq!((scheduled["source"].as_str(), scheduled["detail"].as_str()), (Some("aws.scheduler"), Some("{}")));
    }

    #[test]
    fn input_path_and_transformer_shape_the_event() {
        let path = Target::InputPath("$.resources[0]".into());
        let picked = payload(Method::EventBus, &path, "r", "eu-north-1", time());
        assert_eq!(picked, Bytes::from(r#""arn:aws:events:eu-north-1:000000000000:rule/r""#));
        let template = r#"{"at": "<time>", "where": "<region>"}"#.to_string();
        let paths = vec![("time".into(), "$.time".into()), ("region".into(), "$.region".into())];
        let shaped = payload(Method::EventBus, &Target::Transformer { paths, template }, "r", "eu-north-1", time());
        assert_eq!(shaped, Bytes::from(r#"{"at": "2026-12-05T12:00:00Z", "where": "eu-north-1"}"#));
        let input = payload(Method::EventBus, &Target::Input(json!({"sweep": true})), "r", "eu-north-1", time());
        assert_eq!(input, Bytes::from(r#"{"sweep":true}"#));
    }
}
