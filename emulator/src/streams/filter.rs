//! Event filtering as Lambda applies it to stream records (`filterPatterns`, EventBridge pattern syntax): a record
//! is delivered when any pattern matches it; records no pattern matches are skipped. A pattern matches when every
//! field it names is present and matches one of its values: a literal (strings, numbers by their text, booleans,
//! null), `{"prefix": …}`, `{"anything-but": …}`, `{"numeric": [op, n, …]}` or `{"exists": bool}`; nested objects
//! match nested fields.

use serde_json::Value;

/// Whether `record` passes: no patterns, or at least one that matches.
pub fn passes(patterns: &[Value], record: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|pattern| matches(pattern, Some(record)))
}

fn matches(pattern: &Value, value: Option<&Value>) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, inner)| matches(inner, value.and_then(|v| v.get(key)))),
        Value::Array(options) => options.iter().any(|option| matches_one(option, value)),
        literal => matches_one(literal, value),
    }
}

fn matches_one(option: &Value, value: Option<&Value>) -> bool {
    if let Value::Object(rule) = option {
        if let Some(exists) = rule.get("exists").and_then(Value::as_bool) {
            return value.is_some() == exists;
        }
        let Some(value) = value else { return false };
        if let Some(prefix) = rule.get("prefix").and_then(Value::as_str) {
            return value.as_str().is_some_and(|text| text.starts_with(prefix));
        }
        if let Some(excluded) = rule.get("anything-but") {
            let excluded: Vec<&Value> = match excluded {
                Value::Array(list) => list.iter().collect(),
                one => vec![one],
            };
            return !excluded.iter().any(|e| same_literal(e, value));
        }
        if let Some(Value::Array(conditions)) = rule.get("numeric") {
            return numeric(conditions, value);
        }
        return matches(option, Some(value));
    }
    value.is_some_and(|value| same_literal(option, value))
}

/// Literals compare by their text for numbers (a DynamoDB number is a string: `{"N": "5"}` matches `"5"`).
fn same_literal(expected: &Value, value: &Value) -> bool {
    match (expected, value) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => n.to_string() == *s,
        _ => expected == value,
    }
}

/// `["<", 10, ">=", 2]`: every comparison holds for the value (a number, or a string holding one).
fn numeric(conditions: &[Value], value: &Value) -> bool {
    let Some(actual) = value.as_f64().or_else(|| value.as_str().and_then(|s| s.parse().ok())) else { return false };
    conditions.chunks(2).all(|pair| {
        let (Some(op), Some(bound)) = (pair[0].as_str(), pair.get(1).and_then(Value::as_f64)) else { return false };
        match op {
            "<" => actual < bound,
            "<=" => actual <= bound,
            ">" => actual > bound,
            ">=" => actual >= bound,
            "=" => actual == bound,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, status: &str, n: &str) -> Value {
        json!({"eventName": name, "dynamodb": {"NewImage": {"status": {"S": status}, "n": {"N": n}}}})
    }

    #[test]
    fn patterns_match_as_lambda_filters_match() {
        let inserts = [json!({"eventName": ["INSERT"]})];
        assert!(passes(&inserts, &record("INSERT", "PENDING", "1")));
        assert!(!passes(&inserts, &record("MODIFY", "PENDING", "1")));
        let nested = [json!({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "ERR"}]}}}})];
        assert!(passes(&nested, &record("MODIFY", "ERROR", "1")));
        assert!(!passes(&nested, &record("MODIFY", "SUCCESS", "1")));
        let not_pending = [json!({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["PENDING"]}]}}}})];
        assert!(!passes(&not_pending, &record("INSERT", "PENDING", "1")));
        let big = [json!({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 2, "<=", 10]}]}}}})];
        assert!(passes(&big, &record("INSERT", "X", "5")) && !passes(&big, &record("INSERT", "X", "2")));
        let missing = [json!({"dynamodb": {"OldImage": [{"exists": false}]}})];
        assert!(passes(&missing, &record("INSERT", "X", "1")));
        assert!(passes(&[], &record("REMOVE", "X", "1")), "no patterns: everything passes");
        let either = [json!({"eventName": ["REMOVE"]}), json!({"eventName": ["INSERT"]})];
        assert!(passes(&either, &record("INSERT", "X", "1")));
    }
}
