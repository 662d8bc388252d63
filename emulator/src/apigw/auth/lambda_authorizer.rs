//! Lambda authorizers, as API Gateway runs them: the identity sources checked (and a TOKEN checked against its
//! validation expression) before the function is called, the event each API sends it (REST TOKEN and REQUEST,
//! HTTP API payload 1.0 and 2.0, WebSocket `$connect`), its answer read as an IAM policy or a simple response,
//! kept for the TTL, and the policy evaluated against each request's ARN.

use super::cache::ResultCache;
use super::identity::Parts;
use super::policy::{Effect, Policy};
use super::{Granted, Refusal, Verdict};
use crate::config::authorizers::IdentitySource;
use crate::lambda::{FunctionResult, InvokeRequest, Lambda, Trigger};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which API the authorizer serves, which fixes its event and how its answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// REST `TOKEN`: the identity header's value alone.
    RestToken,
    /// REST `REQUEST`, and WebSocket `$connect`: the request, as the proxy event has it.
    Request,
    /// HTTP API, payload 1.0 (the REST REQUEST event with `version`, `identitySource` and `authorizationToken`).
    HttpApiV1,
    /// HTTP API, payload 2.0; `simple` reads `{isAuthorized, context}` instead of a policy.
    HttpApiV2 { simple: bool },
}

/// One Lambda authorizer, shared by the routes that name it (and so is its cache).
pub struct LambdaAuthorizer {
    pub name: String,
    /// The function's key in `serverless.yml`.
    pub function: String,
    pub flavour: Flavour,
    pub identity_sources: Vec<IdentitySource>,
    pub validation: Option<regex_lite::Regex>,
    pub cache: ResultCache<Answer>,
    /// How long API Gateway waits for the authorizer.
    pub timeout: Duration,
}

/// What a request shows an authorizer.
pub struct AuthRequest<'a> {
    pub parts: Parts<'a>,
    /// The integration event as built (REQUEST events are made from it).
    pub event: &'a Value,
    /// The method ARN (REST, WebSocket) or route ARN (HTTP API) policies are evaluated against.
    pub arn: &'a str,
    /// HTTP API payload 1.0 authorizers only: the request as a payload 1.0 event.
    pub v1_event: Option<&'a Value>,
}

/// An authorizer's answer, as kept in the cache.
#[derive(Debug)]
pub struct Answer {
    principal_id: Option<String>,
    decision: Decision,
    context: Map<String, Value>,
    usage_identifier_key: Option<String>,
}

#[derive(Debug)]
enum Decision {
    Policy(Policy),
    /// A simple response's `isAuthorized`.
    Simple(bool),
}

impl LambdaAuthorizer {
    pub async fn check(&self, lambda: &Lambda, request: &AuthRequest<'_>) -> Verdict {
        let Some(identity) = request.parts.values(&self.identity_sources) else {
            return Verdict::Refuse(Refusal::Unauthorized);
        };
        if let (Flavour::RestToken, Some(expression)) = (self.flavour, &self.validation) {
            if !expression.is_match(&identity[0]) {
                return Verdict::Refuse(Refusal::Unauthorized);
            }
        }
        // A JSON list, so that values holding commas cannot make two identities one key.
        let key = serde_json::to_string(&identity).expect("strings serialise");
        let cached = (self.cache.enabled() && !identity.is_empty()).then(|| self.cache.get(&key)).flatten();
        // A cached answer costs no call, so no latency.
        let (answer, latency_ms) = match cached {
            Some(answer) => (answer, 0),
            None => {
                let started = Instant::now();
                match self.call(lambda, request, &identity).await {
                    Ok(answer) => {
                        let answer = Arc::new(answer);
                        if !identity.is_empty() {
                            self.cache.put(key, answer.clone());
                        }
                        (answer, started.elapsed().as_millis() as u64)
                    }
                    Err(refusal) => return Verdict::Refuse(refusal),
                }
            }
        };
        self.judge(&answer, request.arn, latency_ms)
    }

    /// Calls the function and reads its answer: "Unauthorized" as its error message is a 401, any other failure
    /// or a malformed answer the authorizer's failure.
    async fn call(&self, lambda: &Lambda, request: &AuthRequest<'_>, identity: &[String]) -> Result<Answer, Refusal> {
        let event = self.event(request, identity);
        let payload = serde_json::to_vec(&event).expect("events serialise");
        let request = InvokeRequest::new(payload).by(Trigger::Authorizer { authorizer: self.name.clone() });
        let invocation = lambda.invoke(&self.function, request);
        let result = match tokio::time::timeout(self.timeout, invocation).await {
            Ok(Some(response)) => response.result,
            Ok(None) => {
                tracing::warn!(target: "http", "authorizer {}: function {} is not running", self.name, self.function);
                return Err(Refusal::Failure);
            }
            Err(_) => {
                tracing::warn!(target: "http", "authorizer {} did not answer within {:.0} s", self.name, self.timeout.as_secs_f64());
                return Err(Refusal::Failure);
            }
        };
        match result {
            FunctionResult::Success(payload) => self.read_answer(&payload).map_err(|problem| {
                tracing::warn!(target: "http", "authorizer {} answered malformed output ({problem}): {}", self.name, shorten(&payload));
                Refusal::Failure
            }),
            FunctionResult::Error { payload, .. } => {
                let message = serde_json::from_slice::<Value>(&payload)
                    .ok()
                    .and_then(|error| error.get("errorMessage").and_then(Value::as_str).map(String::from));
                if message.as_deref() == Some("Unauthorized") {
                    return Err(Refusal::Unauthorized);
                }
                tracing::warn!(target: "http", "authorizer {} failed: {}", self.name, shorten(&payload));
                Err(Refusal::Failure)
            }
            FunctionResult::Streamed(_) | FunctionResult::Streaming(_) => {
                tracing::warn!(target: "http", "authorizer {} streamed its answer, which API Gateway does not read", self.name);
                Err(Refusal::Failure)
            }
        }
    }

    /// The event this authorizer's API sends.
    fn event(&self, request: &AuthRequest<'_>, identity: &[String]) -> Value {
        match self.flavour {
            Flavour::RestToken => json!({"type": "TOKEN", "authorizationToken": identity[0], "methodArn": request.arn}),
            Flavour::Request => {
                request_event(request.event, &[("type", json!("REQUEST")), ("methodArn", json!(request.arn))])
            }
            Flavour::HttpApiV1 => {
                let joined = identity.join(",");
                request_event(
                    request.v1_event.unwrap_or(request.event),
                    &[
                        ("version", json!("1.0")),
                        ("type", json!("REQUEST")),
                        ("methodArn", json!(request.arn)),
                        ("identitySource", json!(joined)),
                        ("authorizationToken", json!(joined)),
                    ],
                )
            }
            Flavour::HttpApiV2 { .. } => request_event(
                request.event,
                &[("type", json!("REQUEST")), ("routeArn", json!(request.arn)), ("identitySource", json!(identity))],
            ),
        }
    }

    fn read_answer(&self, payload: &[u8]) -> Result<Answer, String> {
        let Ok(Value::Object(output)) = serde_json::from_slice::<Value>(payload) else {
            return Err("not a JSON object".to_string());
        };
        let context = match output.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(context)) => context.clone(),
            Some(other) => return Err(format!("context must be an object, found {other}")),
        };
        let usage_identifier_key = output.get("usageIdentifierKey").and_then(Value::as_str).map(String::from);
        if let Flavour::HttpApiV2 { simple: true } = self.flavour {
            let Some(authorized) = output.get("isAuthorized").and_then(Value::as_bool) else {
                return Err("a simple response needs isAuthorized (true or false)".to_string());
            };
            return Ok(Answer {
                principal_id: None,
                decision: Decision::Simple(authorized),
                context,
                usage_identifier_key,
            });
        }
        // "You cannot set a JSON object or array as a valid value of any key in the context map."
        if let Some((key, _)) = context.iter().find(|(_, v)| v.is_object() || v.is_array()) {
            if !matches!(self.flavour, Flavour::HttpApiV2 { .. }) {
                return Err(format!(
                    "context.{key} is an object or a list; context values must be strings, numbers or booleans"
                ));
            }
        }
        let principal_id = match output.get("principalId") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => return Err("principalId is missing".to_string()),
        };
        let policy = Policy::parse(output.get("policyDocument").unwrap_or(&Value::Null))?;
        Ok(Answer {
            principal_id: Some(principal_id),
            decision: Decision::Policy(policy),
            context,
            usage_identifier_key,
        })
    }

    /// The answer applied to this request's ARN, and what the integration is told.
    fn judge(&self, answer: &Answer, arn: &str, latency_ms: u64) -> Verdict {
        let http_api = matches!(self.flavour, Flavour::HttpApiV1 | Flavour::HttpApiV2 { .. });
        let effect = match &answer.decision {
            Decision::Simple(true) => Effect::Allow,
            Decision::Simple(false) => Effect::ImplicitDeny,
            Decision::Policy(policy) => policy.evaluate(arn),
        };
        match (effect, http_api) {
            (Effect::Allow, _) => {}
            (_, true) => return Verdict::Refuse(Refusal::Forbidden),
            (Effect::ExplicitDeny, false) => return Verdict::Refuse(Refusal::ExplicitDeny),
            (Effect::ImplicitDeny, false) => return Verdict::Refuse(Refusal::ImplicitDeny),
        }
        let context = if http_api {
            // HTTP APIs hand the context over as the authorizer returned it, under `lambda`.
            json!({"lambda": answer.context})
        } else {
            // REST and WebSocket APIs: principalId, integrationLatency and each context value as a string.
            let mut context = Map::new();
            context.insert("principalId".into(), json!(answer.principal_id));
            context.insert("integrationLatency".into(), json!(latency_ms));
            for (key, value) in &answer.context {
                let text = match value {
                    Value::String(text) => Value::String(text.clone()),
                    Value::Null => Value::Null,
                    other => Value::String(other.to_string()),
                };
                context.insert(key.clone(), text);
            }
            Value::Object(context)
        };
        Verdict::Allow(Granted { context, usage_key: answer.usage_identifier_key.clone() })
    }
}

/// A REQUEST event made from the integration event: everything but the body, plus `fields`.
fn request_event(event: &Value, fields: &[(&str, Value)]) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_string(), value.clone());
    }
    if let Value::Object(event) = event {
        for (key, value) in event {
            if key != "body" && key != "isBase64Encoded" && !map.contains_key(key) {
                map.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(map)
}

fn shorten(payload: &[u8]) -> String {
    String::from_utf8_lossy(&payload[..payload.len().min(300)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(flavour: Flavour) -> LambdaAuthorizer {
        LambdaAuthorizer {
            name: "auth".into(),
            function: "auth".into(),
            flavour,
            identity_sources: vec![IdentitySource::Header("authorization".into())],
            validation: None,
            cache: ResultCache::new(Duration::ZERO),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn rest_answers_need_a_principal_a_policy_and_flat_context() {
        let rest = authorizer(Flavour::RestToken);
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]});
        let good = json!({"principalId": "u1", "policyDocument": policy, "context": {"n": 1, "b": true, "s": "x"}});
        let answer = rest.read_answer(good.to_string().as_bytes()).unwrap();
        let Verdict::Allow(granted) = rest.judge(&answer, "arn", 3) else { panic!("allowed") };
        assert_eq!(
            granted.context,
            json!({"principalId": "u1", "integrationLatency": 3, "n": "1", "b": "true", "s": "x"})
        );
        assert!(rest.read_answer(json!({"policyDocument": policy}).to_string().as_bytes()).is_err(), "no principalId");
        let nested = json!({"principalId": "u1", "policyDocument": policy, "context": {"o": {"a": 1}}});
        assert!(rest.read_answer(nested.to_string().as_bytes()).is_err(), "an object in context");
        assert!(rest.read_answer(b"\"Allow\"").is_err());
    }

    #[test]
    fn simple_responses_allow_or_forbid() {
        let simple = authorizer(Flavour::HttpApiV2 { simple: true });
        let yes = simple.read_answer(br#"{"isAuthorized": true, "context": {"user": {"id": 7}}}"#).unwrap();
        let Verdict::Allow(granted) = simple.judge(&yes, "arn", 0) else { panic!("allowed") };
        assert_eq!(granted.context, json!({"lambda": {"user": {"id": 7}}}));
        let no = simple.read_answer(br#"{"isAuthorized": false}"#).unwrap();
        assert!(matches!(simple.judge(&no, "arn", 0), Verdict::Refuse(Refusal::Forbidden)));
        assert!(simple.read_answer(br#"{"isAuthorized": "yes"}"#).is_err());
    }

    #[test]
    fn request_events_are_the_proxy_event_without_its_body() {
        let event = json!({"headers": {"a": "b"}, "body": "x", "isBase64Encoded": false, "path": "/p"});
        let made = request_event(&event, &[("type", json!("REQUEST")), ("methodArn", json!("arn"))]);
        assert_eq!(made, json!({"type": "REQUEST", "methodArn": "arn", "headers": {"a": "b"}, "path": "/p"}));
    }
}
