//! Subscription filter policies, as SNS checks and applies them ("Amazon SNS message filtering"): a message is
//! delivered to a subscription when every key of its policy matches (AND across keys, OR within a key's list;
//! `$or` for alternatives). With the `MessageAttributes` scope (the default) the keys name message attributes and
//! the policy is flat; with `MessageBody` they name fields of the JSON message and may nest.
//!
//! Values: exact strings (case-sensitive), numbers (matched numerically, against Number attributes or JSON
//! numbers), `true`/`false`/`null`, and the operators `prefix`, `suffix`, `equals-ignore-case`, `anything-but`
//! (values, or a `prefix`/`suffix`), `numeric` (ranges), `exists` and `cidr`. A String.Array attribute, or an
//! array in the body, matches when any of its elements does.

use super::error::SnsError;
use crate::aws::sns::{MAX_FILTER_COMBINATIONS, MAX_FILTER_KEYS};
use crate::sqs::message::AttributeValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What a policy's keys name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Self, SnsError> {
        match text {
            "MessageAttributes" => Ok(Self::MessageAttributes),
            "MessageBody" => Ok(Self::MessageBody),
            other => Err(SnsError::invalid(format!(
                "FilterPolicyScope: Invalid value [{other}]. Please use either MessageBody or MessageAttributes"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::MessageAttributes => "MessageAttributes",
            Self::MessageBody => "MessageBody",
        }
    }
}

/// A checked filter policy and the text it was set from (returned as set).
#[derive(Debug, Clone)]
pub struct FilterPolicy {
    pub text: String,
    policy: Map<String, Value>,
    scope: Scope,
}

impl FilterPolicy {
    /// Parses and checks a policy as SNS does when it is set; the error says what is wrong.
    pub fn parse(text: &str, scope: Scope) -> Result<Self, SnsError> {
        let refuse = |why: &str| SnsError::invalid(format!("FilterPolicy: {why}"));
        let Ok(Value::Object(policy)) = serde_json::from_str::<Value>(text) else {
            return Err(refuse("failed to parse JSON, or the policy is not a JSON object"));
        };
        let (mut keys, mut combos) = (0, 1usize);
        check_object(&policy, scope, &mut keys, &mut combos).map_err(|why| refuse(&why))?;
        if keys > MAX_FILTER_KEYS {
            return Err(refuse(&format!("Filter policy can not have more than {MAX_FILTER_KEYS} keys")));
        }
        if combos > MAX_FILTER_COMBINATIONS {
            return Err(refuse("Filter policy is too complex"));
        }
        Ok(Self { text: text.to_string(), policy, scope })
    }

    /// Whether a message passes this policy.
    pub fn passes(&self, message: &str, attributes: &BTreeMap<String, AttributeValue>) -> bool {
        match self.scope {
            Scope::MessageAttributes => {
                let document: Map<String, Value> = attributes
                    .iter()
                    .filter_map(|(name, value)| Some((name.clone(), attribute_json(value)?)))
                    .collect();
                object_matches(&self.policy, &Value::Object(document))
            }
            Scope::MessageBody => match serde_json::from_str::<Value>(message) {
                Ok(body @ Value::Object(_)) => object_matches(&self.policy, &body),
                _ => false,
            },
        }
    }
}

/// An attribute as filtering sees it: a String as text, a Number as a number, a String.Array as its elements;
/// Binary attributes are never matched.
fn attribute_json(value: &AttributeValue) -> Option<Value> {
    let text = value.string.as_deref()?;
    let kind = value.data_type.split('.').next().unwrap_or_default();
    match (kind, value.data_type.as_str()) {
        (_, "String.Array") => serde_json::from_str::<Value>(text).ok().filter(Value::is_array),
        ("Number", _) => text.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number),
        ("String", _) => Some(Value::String(text.to_string())),
        _ => None,
    }
}

fn check_object(policy: &Map<String, Value>, scope: Scope, keys: &mut usize, combos: &mut usize) -> Result<(), String> {
    for (key, value) in policy {
        match (key.as_str(), value) {
            ("$or", Value::Array(alternatives)) if !alternatives.is_empty() => {
                for alternative in alternatives {
                    let Value::Object(alternative) = alternative else {
                        return Err("\"$or\" must be a list of objects".into());
                    };
                    check_object(alternative, scope, &mut 0, &mut 1)?;
                }
            }
            (_, Value::Array(rules)) => {
                if rules.is_empty() {
                    return Err(format!("Empty arrays are not allowed (\"{key}\")"));
                }
                *keys += 1;
                rules.iter().try_for_each(check_rule)?;
            }
            (_, Value::Object(nested)) if scope == Scope::MessageBody => {
                *keys += 1;
                check_object(nested, scope, &mut 0, &mut 1)?;
            }
            (_, Value::Object(_)) => {
                return Err("Filter policy scope MessageAttributes does not support nested filter policy".into())
            }
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        }
    }
    *combos = combinations(policy);
    Ok(())
}

/// The policy's complexity as SNS counts it: the product of its value lists' sizes (nested objects multiply in),
/// and for `$or`, the sum over its alternatives, each taken with the rest of the policy.
fn combinations(policy: &Map<String, Value>) -> usize {
    let mut product = 1usize;
    let mut alternatives = None;
    for (key, value) in policy {
        match (key.as_str(), value) {
            ("$or", Value::Array(list)) => {
                let sum =
                    list.iter().filter_map(Value::as_object).map(combinations).fold(0usize, usize::saturating_add);
                alternatives = Some(sum.max(1));
            }
            (_, Value::Array(rules)) => product = product.saturating_mul(rules.len()),
            (_, Value::Object(nested)) => product = product.saturating_mul(combinations(nested)),
            _ => {}
        }
    }
    product.saturating_mul(alternatives.unwrap_or(1))
}

fn check_rule(rule: &Value) -> Result<(), String> {
    let Value::Object(rule) = rule else { return Ok(()) };
    let (operator, operand) = match rule.iter().next() {
        Some(pair) if rule.len() == 1 => pair,
        _ => return Err("Match value must be String, number, true, false, or null".into()),
    };
    let text_or =
        |what: &str| operand.is_string().then_some(()).ok_or(format!("{what} match pattern must be a string"));
    match operator.as_str() {
        "prefix" | "suffix" => text_or(operator),
        "equals-ignore-case" => text_or("equals-ignore-case"),
        "exists" => {
            operand.is_boolean().then_some(()).ok_or("exists match pattern must be either true or false.".into())
        }
        "cidr" => operand.as_str().and_then(parse_cidr).map(|_| ()).ok_or("Malformed CIDR, one '/' required".into()),
        "anything-but" => match operand {
            Value::Object(inner) => match inner.iter().next() {
                Some((op, Value::String(_))) if inner.len() == 1 && (op == "prefix" || op == "suffix") => Ok(()),
                _ => Err("Unsupported anything-but pattern".into()),
            },
            Value::Array(values) if values.iter().all(|v| v.is_string() || v.is_number()) => Ok(()),
            Value::String(_) | Value::Number(_) => Ok(()),
            _ => Err("Unsupported anything-but pattern".into()),
        },
        "numeric" => check_numeric(operand),
        other => Err(format!("Unrecognized match type {other}")),
    }
}

fn check_numeric(operand: &Value) -> Result<(), String> {
    let Some(parts) = operand.as_array().filter(|p| !p.is_empty() && p.len() % 2 == 0 && p.len() <= 4) else {
        return Err("Invalid member in numeric match".into());
    };
    for pair in parts.chunks(2) {
        let operator = pair[0].as_str().unwrap_or_default();
        if !["<", "<=", "=", ">", ">="].contains(&operator) {
            return Err(format!("Unrecognized numeric range operator: {}", pair[0]));
        }
        if !pair[1].is_number() {
            return Err(format!("Value of {operator} must be numeric"));
        }
    }
    Ok(())
}

fn object_matches(policy: &Map<String, Value>, document: &Value) -> bool {
    // An array of objects matches when any of its objects does (SNS walks arrays in payloads).
    if let Value::Array(items) = document {
        return items.iter().any(|item| object_matches(policy, item));
    }
    policy.iter().all(|(key, rules)| match (key.as_str(), rules) {
        ("$or", Value::Array(alternatives)) => {
            alternatives.iter().any(|alternative| alternative.as_object().is_some_and(|a| object_matches(a, document)))
        }
        // A missing parent is matched as absent leaves, so `exists: false` below it holds.
        (_, Value::Object(nested)) => object_matches(nested, document.get(key).unwrap_or(&Value::Null)),
        (_, Value::Array(rules)) => key_matches(rules, document.get(key)),
        _ => false,
    })
}

/// One key: its value (absent, one value, or an array of them) against the key's rules.
fn key_matches(rules: &[Value], value: Option<&Value>) -> bool {
    rules.iter().any(|rule| match (rule.get("exists").and_then(Value::as_bool), value) {
        (Some(exists), value) => value.is_some() == exists,
        (None, None) => false,
        (None, Some(Value::Array(elements))) => elements.iter().any(|element| rule_matches(rule, element)),
        (None, Some(value)) => rule_matches(rule, value),
    })
}

fn rule_matches(rule: &Value, value: &Value) -> bool {
    let Value::Object(rule) = rule else { return same(rule, value) };
    let Some((operator, operand)) = rule.iter().next() else { return false };
    let text = value.as_str();
    match operator.as_str() {
        "prefix" => text.zip(operand.as_str()).is_some_and(|(t, p)| t.starts_with(p)),
        "suffix" => text.zip(operand.as_str()).is_some_and(|(t, s)| t.ends_with(s)),
        "equals-ignore-case" => text.zip(operand.as_str()).is_some_and(|(t, o)| t.eq_ignore_ascii_case(o)),
        "anything-but" => match operand {
            Value::Array(excluded) => !excluded.iter().any(|e| same(e, value)),
            Value::Object(inner) => !inner.iter().any(|(op, o)| rule_matches(&serde_json::json!({op: o}), value)),
            one => !same(one, value),
        },
        "numeric" => value.as_f64().is_some_and(|n| numeric(operand, n)),
        "cidr" => text
            .and_then(|t| t.parse::<IpAddr>().ok())
            .zip(operand.as_str().and_then(parse_cidr))
            .is_some_and(|(ip, (network, bits))| in_network(ip, network, bits)),
        _ => false,
    }
}

/// Literals: strings exactly, numbers by value (`5` matches `5.0`), booleans and null as themselves.
fn same(expected: &Value, value: &Value) -> bool {
    match (expected, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == value,
    }
}

/// `["<", 10, ">=", 2]`: every comparison holds.
fn numeric(conditions: &Value, actual: f64) -> bool {
    conditions.as_array().is_some_and(|parts| {
        parts.chunks(2).all(|pair| {
            let bound = pair.get(1).and_then(Value::as_f64).unwrap_or(f64::NAN);
            match pair[0].as_str() {
                Some("<") => actual < bound,
                Some("<=") => actual <= bound,
                Some(">") => actual > bound,
                Some(">=") => actual >= bound,
                Some("=") => actual == bound,
                _ => false,
            }
        })
    })
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u32)> {
    let (address, bits) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((address, bits))
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u32) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> AttributeValue {
        AttributeValue { data_type: "String".into(), string: Some(s.into()), binary: None }
    }

    fn typed(kind: &str, s: &str) -> AttributeValue {
        AttributeValue { data_type: kind.into(), string: Some(s.into()), binary: None }
    }

    fn attrs(pairs: &[(&str, AttributeValue)]) -> BTreeMap<String, AttributeValue> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn attribute_policies_match_as_sns_documents() {
        let policy = FilterPolicy::parse(
            r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],"price_usd":[{"numeric":[">=",100]}]}"#,
            Scope::MessageAttributes,
        )
        .unwrap();
        let good = attrs(&[
            ("store", string("example_corp")),
            ("event", string("order_placed")),
            ("price_usd", typed("Number", "210.75")),
        ]);
        assert!(policy.passes("", &good));
        let cheap = attrs(&[
            ("store", string("example_corp")),
            ("event", string("order_placed")),
            ("price_usd", typed("Number", "9")),
        ]);
        assert!(!policy.passes("", &cheap));
        let missing = attrs(&[("store", string("example_corp")), ("price_usd", typed("Number", "210"))]);
        assert!(!policy.passes("", &missing), "anything-but needs the attribute");

        let array = FilterPolicy::parse(r#"{"pets":["dog"]}"#, Scope::MessageAttributes).unwrap();
        assert!(array.passes("", &attrs(&[("pets", typed("String.Array", r#"["cat","dog"]"#))])));
        assert!(!array.passes("", &attrs(&[("pets", typed("String.Array", r#"["cat"]"#))])));

        let absent = FilterPolicy::parse(r#"{"skip":[{"exists":false}]}"#, Scope::MessageAttributes).unwrap();
        assert!(absent.passes("", &attrs(&[])) && !absent.passes("", &attrs(&[("skip", string("x"))])));

        let or =
            FilterPolicy::parse(r#"{"a":["1"],"$or":[{"b":["2"]},{"c":[{"prefix":"x"}]}]}"#, Scope::MessageAttributes)
                .unwrap();
        assert!(or.passes("", &attrs(&[("a", string("1")), ("c", string("xyz"))])));
        assert!(!or.passes("", &attrs(&[("a", string("1")), ("c", string("abc"))])));

        let number = FilterPolicy::parse(r#"{"n":[5]}"#, Scope::MessageAttributes).unwrap();
        assert!(number.passes("", &attrs(&[("n", typed("Number", "5.0"))])));
        assert!(!number.passes("", &attrs(&[("n", string("5"))])), "a number matches Number attributes");

        let ip = FilterPolicy::parse(r#"{"source":[{"cidr":"10.0.0.0/24"}]}"#, Scope::MessageAttributes).unwrap();
        assert!(ip.passes("", &attrs(&[("source", string("10.0.0.7"))])));
        assert!(!ip.passes("", &attrs(&[("source", string("10.0.1.7"))])));
    }

    #[test]
    fn body_policies_nest_and_need_json() {
        let policy =
            FilterPolicy::parse(r#"{"order":{"status":["paid",{"suffix":"-rush"}]}}"#, Scope::MessageBody).unwrap();
        assert!(policy.passes(r#"{"order":{"status":"paid"}}"#, &BTreeMap::new()));
        assert!(policy.passes(r#"{"order":{"status":"ship-rush"}}"#, &BTreeMap::new()));
        assert!(!policy.passes(r#"{"order":{"status":"open"}}"#, &BTreeMap::new()));
        assert!(!policy.passes("not json", &BTreeMap::new()));
        let records =
            FilterPolicy::parse(r#"{"Records":{"s3":{"object":{"key":[{"prefix":"auto-"}]}}}}"#, Scope::MessageBody)
                .unwrap();
        assert!(records.passes(
            r#"{"Records":[{"s3":{"object":{"key":"x"}}},{"s3":{"object":{"key":"auto-1"}}}]}"#,
            &BTreeMap::new()
        ));
        let absent = FilterPolicy::parse(r#"{"a":{"b":[{"exists":false}]}}"#, Scope::MessageBody).unwrap();
        assert!(absent.passes(r#"{"c":1}"#, &BTreeMap::new()), "a missing parent leaves b absent");
    }

    #[test]
    fn or_branches_are_counted_apart() {
        // (3·6) + (3·4·4) + (3·4·7) = 150: accepted, as SNS accepts it.
        let list = |n: usize| serde_json::to_string(&(0..n).collect::<Vec<_>>()).unwrap();
        let text = format!(
            r#"{{"a":{},"$or":[{{"b":{}}},{{"c":{},"d":{}}},{{"e":{},"f":{}}}]}}"#,
            list(3),
            list(6),
            list(4),
            list(4),
            list(4),
            list(7)
        );
        assert!(FilterPolicy::parse(&text, Scope::MessageAttributes).is_ok(), "{text}");
        let too_many = format!(r#"{{"a":{},"b":{}}}"#, list(13), list(12));
        assert!(FilterPolicy::parse(&too_many, Scope::MessageAttributes).unwrap_err().message.contains("too complex"));
    }

    #[test]
    fn bad_policies_are_refused_with_sns_reasons() {
        let error = |text: &str, scope| FilterPolicy::parse(text, scope).unwrap_err().message;
        assert!(error(r#"{"a":{"b":["c"]}}"#, Scope::MessageAttributes).contains("does not support nested"));
        assert!(error(r#"{"a":"b"}"#, Scope::MessageAttributes).contains("must be an object or an array"));
        assert!(error(r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#, Scope::MessageAttributes)
            .contains("more than 5 keys"));
        assert!(
            error(r#"{"a":[{"wildcard":"x"}]}"#, Scope::MessageAttributes).contains("Unrecognized match type wildcard")
        );
        assert!(error(r#"{"a":[{"numeric":[">>",1]}]}"#, Scope::MessageAttributes).contains("numeric range operator"));
        assert!(error("[1]", Scope::MessageAttributes).starts_with("Invalid parameter: FilterPolicy"));
    }
}
