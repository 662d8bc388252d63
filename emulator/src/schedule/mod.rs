//! `schedule` events: EventBridge rules (and Scheduler schedules) that invoke their function on a `rate(…)` or
//! `cron(…)`, asynchronously, with the event EventBridge sends.
//!
//! - [`cron`]: AWS's six-field cron expressions and their next fire time.
//! - [`expression`]: `rate(…)` or `cron(…)`.
//! - [`event`]: the payload: the Scheduled Event, or the target's input.
//! - here: the rules of a service, checked for the plan ([`rules`]), and the tasks that fire them
//!   ([`Schedules`]), timed by a [`Clock`] that tests can run fast.

pub mod cron;
pub mod event;
pub mod expression;

use crate::config::{ConfigError, Event, ScheduleEvent, Service};
use crate::lambda::{InvokeRequest, Lambda, Trigger};
use chrono::{DateTime, Utc};
use event::{Method, Target};
use expression::Expression;
use std::sync::{Arc, Mutex, Weak};

/// One rule: a function, when it runs, and what it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The function's key.
    pub function: String,
    /// The rule's (or schedule's) name, as its ARN carries it.
    pub name: String,
    /// `rate(…)` or `cron(…)` as written.
    pub text: String,
    pub expression: Expression,
    pub enabled: bool,
    pub method: Method,
    pub target: Target,
    pub region: String,
}

impl Rule {
    /// The payload of a run at `time`.
    pub fn payload(&self, time: DateTime<Utc>) -> bytes::Bytes {
        event::payload(self.method, &self.target, &self.name, &self.region, time)
    }
}

/// Every schedule rule of `service`, checked: expressions, JSONPaths, transformer. Rules are named as
/// CloudFormation names the ones Serverless creates (`<service>-<stage>-<Function>EventsRuleSchedule<N>`), unless
/// the event names its own.
pub fn rules(service: &Service) -> Result<Vec<Rule>, ConfigError> {
    let mut rules = Vec::new();
    for function in service.functions.values() {
        let mut count = 0;
        for (i, event) in function.events.iter().enumerate() {
            let Event::Schedule(schedule) = event else { continue };
            let path = format!("functions.{}.events.{i}.schedule", function.key);
            let target = target(schedule, &path)?;
            for text in &schedule.expressions {
                count += 1;
                let expression = Expression::parse(text).map_err(|reason| ConfigError::at_path(&path, reason))?;
                let name = schedule.name.clone().unwrap_or_else(|| {
                    let logical = function.normalized_name();
                    format!("{}-{}-{logical}EventsRuleSchedule{count}", service.service, service.stage)
                });
                rules.push(Rule {
                    function: function.key.clone(),
                    name,
                    text: text.clone(),
                    expression,
                    enabled: schedule.enabled,
                    method: if schedule.scheduler { Method::Scheduler } else { Method::EventBus },
                    target: target.clone(),
                    region: service.region.clone(),
                });
            }
        }
    }
    Ok(rules)
}

/// The target's shaping of the event. Serverless JSON-encodes an object `input` (parsing an `input.body` string
/// first); a string `input` is JSON text.
fn target(schedule: &ScheduleEvent, path: &str) -> Result<Target, ConfigError> {
    if let Some(input) = &schedule.input {
        let input = match input {
            serde_json::Value::String(text) => serde_json::from_str(text).map_err(|err| {
                ConfigError::at_path(format!("{path}.input"), format!("expected JSON text or an object: {err}"))
            })?,
            serde_json::Value::Object(map) => {
                let mut map = map.clone();
                if let Some(serde_json::Value::String(body)) = map.get("body") {
                    if let Ok(parsed) = serde_json::from_str(body) {
                        map.insert("body".into(), parsed);
                    }
                }
                serde_json::Value::Object(map)
            }
            other => other.clone(),
        };
        return Ok(Target::Input(input));
    }
    if let Some(path_text) = &schedule.input_path {
        event::check_path(path_text).map_err(|reason| ConfigError::at_path(format!("{path}.inputPath"), reason))?;
        return Ok(Target::InputPath(path_text.clone()));
    }
    if let Some(transformer) = &schedule.input_transformer {
        let at = format!("{path}.inputTransformer");
        let template = transformer
            .get("inputTemplate")
            .and_then(|t| t.as_str())
            .ok_or_else(|| ConfigError::at_path(format!("{at}.inputTemplate"), "expected the template text"))?;
        let mut paths = Vec::new();
        if let Some(map) = transformer.get("inputPathsMap").and_then(|m| m.as_object()) {
            for (name, value) in map {
                let value_path = value.as_str().unwrap_or_default();
                event::check_path(value_path)
                    .map_err(|reason| ConfigError::at_path(format!("{at}.inputPathsMap.{name}"), reason))?;
                paths.push((name.clone(), value_path.to_string()));
            }
        }
        return Ok(Target::Transformer { paths, template: template.to_string() });
    }
    Ok(Target::Event)
}

/// The time schedules run by: the system's, or a virtual one that jumps to each fire time at once, so a test
/// runs a day of schedules in milliseconds.
#[derive(Debug, Clone)]
pub enum Clock {
    System,
    Virtual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn system() -> Self {
        Self::System
    }

    /// Virtual time that reads `start` now and moves only when a schedule sleeps.
    pub fn virtual_at(start: DateTime<Utc>) -> Self {
        Self::Virtual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Virtual(now) => *now.lock().unwrap(),
        }
    }

    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match self {
            Self::System => {
                if let Ok(wait) = at.signed_duration_since(Utc::now()).to_std() {
                    tokio::time::sleep(wait).await;
                }
            }
            Self::Virtual(now) => {
                let mut now = now.lock().unwrap();
                *now = (*now).max(at);
            }
        }
    }
}

/// The running rules: one task each, replaced whole when a plan is applied.
pub struct Schedules {
    lambda: Weak<Lambda>,
    clock: Clock,
    running: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Schedules {
    pub fn new(lambda: &Arc<Lambda>, clock: Clock) -> Self {
        Self { lambda: Arc::downgrade(lambda), clock, running: Mutex::new(Vec::new()) }
    }

    /// Runs `rules` (instead of the previous ones). Returns a line per rule, with its next run, for the log.
    pub fn apply(&self, rules: Vec<Rule>) -> Vec<String> {
        let mut running = self.running.lock().unwrap();
        running.drain(..).for_each(|task| task.abort());
        let now = self.clock.now();
        let mut lines = Vec::new();
        for rule in rules {
            if !rule.enabled {
                lines.push(format!("{} → {} ({}): disabled", rule.name, rule.function, rule.text));
                continue;
            }
            let next = rule.expression.next_after(now, now).map_or("never".into(), |t| t.to_rfc3339());
            lines.push(format!("{} → {} ({}): next run {next}", rule.name, rule.function, rule.text));
            let lambda = self.lambda.clone();
            let fire = move |rule: &Rule, time: DateTime<Utc>| {
                let Some(lambda) = lambda.upgrade() else { return };
                tracing::info!(target: "schedule", "{} fires {} ({time})", rule.name, rule.function);
                let request = InvokeRequest::new(rule.payload(time)).by(Trigger::Schedule { rule: rule.name.clone() });
                lambda.invoke_event(&rule.function, request);
            };
            running.push(tokio::spawn(run(rule, self.clock.clone(), None, fire)));
        }
        lines
    }
}

impl Drop for Schedules {
    fn drop(&mut self) {
        self.running.lock().unwrap().drain(..).for_each(|task| task.abort());
    }
}

/// Fires `rule` at each of its times from now on (up to `until`, if given), with `fire`.
pub async fn run(rule: Rule, clock: Clock, until: Option<DateTime<Utc>>, fire: impl Fn(&Rule, DateTime<Utc>)) {
    let created = clock.now();
    let mut after = created;
    while let Some(next) = rule.expression.next_after(after, created) {
        if until.is_some_and(|until| next > until) {
            return;
        }
        clock.sleep_until(next).await;
        fire(&rule, next);
        after = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Rule {
        Rule {
            function: "sweep".into(),
            name: "svc-dev-SweepEventsRuleSchedule1".into(),
            text: text.into(),
            expression: Expression::parse(text).unwrap(),
            enabled: true,
            method: Method::EventBus,
            target: Target::Event,
            region: "eu-north-1".into(),
        }
    }

    #[tokio::test]
    async fn a_day_of_schedules_runs_in_virtual_time() {
        let start = DateTime::parse_from_rfc3339("2026-12-05T00:00:30Z").unwrap().with_timezone(&Utc);
        let day = Some(start + chrono::Duration::days(1));
        let fired = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (fired.clone(), fired.clone());
        let hourly = run(rule("cron(0 * * * ? *)"), Clock::virtual_at(start), day, move |_, t| {
            a.lock().unwrap().push(("cron", t))
        });
        hourly.await;
        run(rule("rate(6 hours)"), Clock::virtual_at(start), day, move |_, t| b.lock().unwrap().push(("rate", t)))
            .await;
        let fired = fired.lock().unwrap();
        let cron: Vec<_> = fired.iter().filter(|(k, _)| *k == "cron").map(|(_, t)| *t).collect();
        assert_eq!(cron.len(), 24, "every hour of the day");
        assert_eq!(cron[0].to_rfc3339(), "2026-12-05T01:00:00+00:00");
        let rates: Vec<_> = fired.iter().filter(|(k, _)| *k == "rate").map(|(_, t)| t.to_rfc3339()).collect();
        assert_eq!(rates.len(), 4);
        assert_eq!(rates[0], "2026-12-05T06:00:30+00:00", "rates count from the rule's creation");
    }
}
