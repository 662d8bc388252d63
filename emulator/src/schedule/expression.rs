//! A schedule expression: `rate(value unit)` or `cron(…)`, as EventBridge and Serverless v3 spell them, and when
//! it fires next.

use super::cron::Cron;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// Every period, from when the rule was created.
    Rate(Duration),
    Cron(Box<Cron>),
}

impl Expression {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            return parse_rate(inner).map(Expression::Rate);
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return Cron::parse(inner).map(|cron| Expression::Cron(Box::new(cron)));
        }
        Err(format!("expected rate(…) or cron(…), found `{text}`"))
    }

    /// The next fire time after `after`; `created` is when the rule started (rates count from it).
    pub fn next_after(&self, after: DateTime<Utc>, created: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expression::Cron(cron) => cron.next_after(after),
            Expression::Rate(period) => {
                let period = chrono::Duration::from_std(*period).ok()?;
                let elapsed = after.signed_duration_since(created);
                let periods = (elapsed.num_milliseconds() / period.num_milliseconds()).max(0) + 1;
                Some(created + period * periods as i32)
            }
        }
    }
}

/// `5 minutes`: a positive whole number and a unit, singular exactly when the value is 1 (`rate(1 minutes)` is
/// refused by EventBridge and by Serverless).
fn parse_rate(inner: &str) -> Result<Duration, String> {
    let (value, unit) =
        inner.trim().split_once(' ').ok_or_else(|| format!("expected `rate(value unit)`, found `rate({inner})`"))?;
    let value: u64 = value
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("rate: `{value}` is not a positive whole number"))?;
    let seconds = match (unit.trim(), value == 1) {
        ("minute", true) | ("minutes", false) => 60,
        ("hour", true) | ("hours", false) => 3600,
        ("day", true) | ("days", false) => 86400,
        (unit, _) => {
            let expected = if value == 1 { "minute, hour or day" } else { "minutes, hours or days" };
            return Err(format!("rate: expected {expected} after {value}, found `{unit}`"));
        }
    };
    Ok(Duration::from_secs(value * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_spelt_as_eventbridge_spells_them_and_count_from_creation() {
        assert_eq!(Expression::parse("rate(1 minute)").unwrap(), Expression::Rate(Duration::from_secs(60)));
        assert_eq!(Expression::parse("rate(2 hours)").unwrap(), Expression::Rate(Duration::from_secs(7200)));
        assert!(Expression::parse("rate(1 minutes)").unwrap_err().contains("expected minute, hour or day"));
        assert!(Expression::parse("rate(5 minute)").is_err());
        assert!(Expression::parse("rate(0 days)").is_err());
        assert!(Expression::parse("every 5 minutes").is_err());
        let created = DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z").unwrap().with_timezone(&Utc);
        let rate = Expression::parse("rate(90 minutes)").unwrap();
        let after = created + chrono::Duration::minutes(100);
        assert_eq!(rate.next_after(after, created), Some(created + chrono::Duration::minutes(180)));
        assert_eq!(rate.next_after(created, created), Some(created + chrono::Duration::minutes(90)));
    }
}
