//! Bucket CORS as S3 applies it ("Configuring cross-origin resource sharing", and the CORS section of the
//! S3 API reference): a request with an `Origin` is allowed by the first rule whose origins (one `*` wildcard
//! each) and methods match, and for a preflight whose allowed headers cover every requested one. A preflight
//! nothing allows gets 403 `AccessForbidden`; an actual request nothing allows is served without CORS headers
//! (the browser then withholds the answer from the page).

use hyper::header::HeaderValue;
use hyper::HeaderMap;

/// One CORS rule of a bucket (`CORSRule`, or `CorsRules` of an `AWS::S3::Bucket`'s `CorsConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRule {
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// Why a preflight was refused, in S3's words.
pub const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";
pub const NO_BUCKET: &str = "CORSResponse: Bucket not found";
pub const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// The headers of an allowed preflight, or why it is refused.
pub fn preflight(
    rules: &[CorsRule],
    origin: &str,
    method: &str,
    requested_headers: &[String],
) -> Result<HeaderMap, &'static str> {
    if rules.is_empty() {
        return Err(NOT_ENABLED);
    }
    let rule = rules
        .iter()
        .find(|rule| {
            allows_origin(rule, origin)
                && rule.allowed_methods.iter().any(|m| m.eq_ignore_ascii_case(method))
                && requested_headers
                    .iter()
                    .all(|h| rule.allowed_headers.iter().any(|allowed| wildcard(allowed, h, true)))
        })
        .ok_or(NOT_ALLOWED)?;
    let mut headers = origin_headers(rule, origin);
    insert(&mut headers, "access-control-allow-methods", &rule.allowed_methods.join(", "));
    if !requested_headers.is_empty() {
        insert(&mut headers, "access-control-allow-headers", &requested_headers.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        insert(&mut headers, "access-control-max-age", &age.to_string());
    }
    Ok(headers)
}

/// The CORS headers an actual request from `origin` gets, when a rule allows it (S3 sends the rule's methods and
/// max age on these too).
pub fn actual(rules: &[CorsRule], origin: &str, method: &str) -> Option<HeaderMap> {
    let rule = rules.iter().find(|rule| {
        allows_origin(rule, origin) && rule.allowed_methods.iter().any(|m| m.eq_ignore_ascii_case(method))
    })?;
    let mut headers = origin_headers(rule, origin);
    insert(&mut headers, "access-control-allow-methods", &rule.allowed_methods.join(", "));
    if let Some(age) = rule.max_age_seconds {
        insert(&mut headers, "access-control-max-age", &age.to_string());
    }
    Some(headers)
}

fn origin_headers(rule: &CorsRule, origin: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if rule.allowed_origins.iter().any(|o| o == "*") {
        insert(&mut headers, "access-control-allow-origin", "*");
    } else {
        insert(&mut headers, "access-control-allow-origin", origin);
        insert(&mut headers, "access-control-allow-credentials", "true");
    }
    if !rule.expose_headers.is_empty() {
        insert(&mut headers, "access-control-expose-headers", &rule.expose_headers.join(", "));
    }
    insert(&mut headers, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    headers
}

fn allows_origin(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_origins.iter().any(|allowed| wildcard(allowed, origin, false))
}

/// A pattern with at most one `*`, as S3 allows in origins and headers; headers compare without case.
fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (pattern, text) = if ignore_case {
        (pattern.to_ascii_lowercase(), text.to_ascii_lowercase())
    } else {
        (pattern.to_string(), text.to_string())
    };
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => text.len() >= head.len() + tail.len() && text.starts_with(head) && text.ends_with(tail),
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            id: None,
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(300),
        }
    }

    #[test]
    fn preflights_and_requests_follow_the_first_matching_rule() {
        let rules = [rule(&["http://localhost:*"], &["PUT", "GET"], &["*"])];
        let allowed = preflight(&rules, "http://localhost:5173", "PUT", &["content-type".into()]).unwrap();
        assert_eq!(allowed["access-control-allow-origin"], "http://localhost:5173");
        assert_eq!(allowed["access-control-allow-methods"], "PUT, GET");
        assert_eq!(allowed["access-control-max-age"], "300");
        assert_eq!(preflight(&rules, "https://evil.example", "PUT", &[]).unwrap_err(), NOT_ALLOWED);
        assert_eq!(preflight(&rules, "http://localhost:5173", "DELETE", &[]).unwrap_err(), NOT_ALLOWED);
        assert_eq!(preflight(&[], "http://localhost:5173", "PUT", &[]).unwrap_err(), NOT_ENABLED);
        let narrow = [rule(&["*"], &["GET"], &["x-amz-date"])];
        assert!(preflight(&narrow, "http://a", "GET", &["authorization".into()]).is_err());
        assert_eq!(actual(&narrow, "http://a", "GET").unwrap()["access-control-allow-origin"], "*");
        assert!(actual(&narrow, "http://a", "PUT").is_none());
    }
}
