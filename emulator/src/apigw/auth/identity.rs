//! The caller's identity, read from a request as an authorizer's identity sources name it: headers (any case),
//! query string parameters, stage variables (none locally) and `requestContext` fields. API Gateway refuses a
//! request whose identity sources are not all present and non-empty before it calls the authorizer.

use crate::config::authorizers::IdentitySource;
use serde_json::Value;

/// The parts of a request identity sources read.
pub struct Parts<'a> {
    /// Names lower-case, in arrival order.
    pub headers: &'a [(String, String)],
    /// Decoded, in order.
    pub query: &'a [(String, String)],
    /// The event's `requestContext`.
    pub context: &'a Value,
}

impl Parts<'_> {
    /// The value of one identity source, when present and non-empty.
    pub fn value(&self, source: &IdentitySource) -> Option<String> {
        let found = match source {
            // The last of repeated values, which is the one the event's single-value maps keep: what the
            // authorizer checks is what the integration sees.
            IdentitySource::Header(name) => self.headers.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            IdentitySource::Query(name) => self.query.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            // Stage variables are not emulated: none is ever set.
            IdentitySource::StageVariable(_) => None,
            IdentitySource::Context(path) => {
                let lookup = |path: &str| path.split('.').try_fold(self.context, |v, key| v.get(key));
                // HTTP API events keep some context variables elsewhere (`$context.identity.sourceIp` is
                // `requestContext.http.sourceIp` in payload 2.0).
                let value = lookup(path).or_else(|| lookup(http_api_context_field(path)?))?;
                match value {
                    Value::String(text) => Some(text.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                }
            }
        };
        found.filter(|v| !v.trim().is_empty())
    }

    /// Every source's value in order, or `None` when one is missing.
    pub fn values(&self, sources: &[IdentitySource]) -> Option<Vec<String>> {
        sources.iter().map(|s| self.value(s)).collect()
    }
}

/// Where a payload 2.0 event keeps a context variable that REST events keep under its own name.
fn http_api_context_field(path: &str) -> Option<&'static str> {
    match path {
        "identity.sourceIp" => Some("http.sourceIp"),
        "identity.userAgent" => Some("http.userAgent"),
        "httpMethod" => Some("http.method"),
        "protocol" => Some("http.protocol"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_source_must_be_present_and_non_empty() {
        let headers = vec![("authorization".to_string(), "Bearer x".to_string()), ("x-empty".into(), " ".into())];
        let query = vec![("token".to_string(), "t1".to_string())];
        let context = json!({"identity": {"sourceIp": "127.0.0.1"}});
        let parts = Parts { headers: &headers, query: &query, context: &context };
        let sources = [
            IdentitySource::Header("authorization".into()),
            IdentitySource::Query("token".into()),
            IdentitySource::Context("identity.sourceIp".into()),
        ];
        assert_eq!(parts.values(&sources).unwrap(), ["Bearer x", "t1", "127.0.0.1"]);
        assert_eq!(parts.values(&[IdentitySource::Header("x-empty".into())]), None);
        assert_eq!(parts.values(&[IdentitySource::StageVariable("v".into())]), None);
        assert_eq!(parts.values(&[]), Some(vec![]));
        let repeated = vec![("x".to_string(), "first".to_string()), ("x".to_string(), "last".to_string())];
        let parts = Parts { headers: &repeated, query: &repeated, context: &context };
        assert_eq!(parts.value(&IdentitySource::Header("x".into())).as_deref(), Some("last"), "as the event keeps it");
        let v2 = json!({"http": {"sourceIp": "10.0.0.1"}});
        let parts = Parts { headers: &[], query: &[], context: &v2 };
        assert_eq!(parts.value(&IdentitySource::Context("identity.sourceIp".into())).as_deref(), Some("10.0.0.1"));
    }
}
