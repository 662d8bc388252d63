//! JWT authorizers: the HTTP API's (`type: jwt`) and the REST API's Cognito user pool authorizers, as API Gateway
//! checks a token (developer guide, "Controlling access to HTTP APIs with JWT authorizers"):
//! 1. the token from the identity source, bare or after `Bearer `;
//! 2. its signature, by the key its header's `kid` names in the issuer's JSON Web Key Set (RSA only, as HTTP APIs
//!    accept), the set fetched from `{issuer}/.well-known/openid-configuration` when the issuer is on this machine,
//!    or read from a file (`custom.ftb-offline.jwks`);
//! 3. `iss` equal to the issuer, `aud` one of the audiences (`client_id` only when there is no `aud`), `exp` in
//!    the future, `nbf` and `iat` in the past;
//! 4. a route's scopes: the token's `scope` (or `scp`) must hold one of them, else 403.
//!
//! The claims reach the integration as API Gateway writes them: every value a string, lists as `[a b]`.

use super::identity::Parts;
use super::{Granted, Refusal, Verdict};
use crate::config::authorizers::IdentitySource;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a fetched key set is used before it is fetched again ("up to two hours", API Gateway's cache).
const KEYS_KEPT: Duration = Duration::from_secs(2 * 3600);
/// A token naming a key the set does not have refetches the set, at most this often.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(5);
/// How long the issuer gets to answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How claims are handed to the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `requestContext.authorizer.jwt.{claims, scopes}`.
    HttpApi,
    /// `requestContext.authorizer.claims`, `exp` and `iat` as dates in Java's `Date.toString()` form.
    Cognito,
}

pub struct JwtAuthorizer {
    pub name: String,
    pub issuer: String,
    /// Empty: not checked (a Cognito authorizer accepts every app client of its pool).
    pub audiences: Vec<String>,
    pub identity_source: IdentitySource,
    pub keys: Keys,
    pub style: Style,
}

/// Where the keys that check signatures come from.
pub enum Keys {
    /// Read from a JWKS file at start.
    Fixed(JwkSet),
    /// Fetched from the issuer, which is on this machine.
    Discovered(tokio::sync::Mutex<Option<(Instant, JwkSet)>>),
    /// `--ignore-jwt-signature`: claims are checked, signatures are not.
    Unchecked,
    /// No way to get the issuer's keys here; every token is refused, and the log says why.
    Unavailable(String),
}

impl Keys {
    /// The keys for `issuer`: a JWKS file given for it (or for every issuer), else discovery when the issuer is on
    /// loopback, else none.
    pub fn for_issuer(
        issuer: &str,
        files: &indexmap::IndexMap<String, std::path::PathBuf>,
        unchecked: bool,
    ) -> Result<Self, String> {
        if unchecked {
            return Ok(Keys::Unchecked);
        }
        if let Some(file) = files.get(issuer).or_else(|| files.get("")) {
            return read_key_file(file).map(Keys::Fixed);
        }
        if is_loopback_url(issuer) {
            return Ok(Keys::Discovered(tokio::sync::Mutex::new(None)));
        }
        Ok(Keys::Unavailable(format!(
            "the keys of issuer {issuer} cannot be fetched locally; give its JWKS file in custom.ftb-offline.jwks, or start with --ignore-jwt-signature"
        )))
    }
}

impl JwtAuthorizer {
    /// Checks the request's token; `scopes` are the route's.
    pub async fn check(&self, parts: &Parts<'_>, scopes: &[String]) -> Verdict {
        let Some(raw) = parts.value(&self.identity_source) else {
            return Verdict::Refuse(Refusal::Unauthorized);
        };
        let token = strip_bearer(&raw);
        let claims = match self.verified_claims(token).await {
            Ok(claims) => claims,
            Err(reason) => {
                tracing::info!(target: "http", "authorizer {} refused a token: {reason}", self.name);
                return Verdict::Refuse(Refusal::Unauthorized);
            }
        };
        if let Err(reason) = self.check_claims(&claims, chrono::Utc::now().timestamp()) {
            tracing::info!(target: "http", "authorizer {} refused a token: {reason}", self.name);
            return Verdict::Refuse(Refusal::Unauthorized);
        }
        if let Err(reason) = self.check_token_use(&claims, scopes) {
            tracing::info!(target: "http", "authorizer {} refused a token: {reason}", self.name);
            return Verdict::Refuse(Refusal::Unauthorized);
        }
        let granted = token_scopes(&claims);
        if !scopes.is_empty() && !scopes.iter().any(|s| granted.contains(s)) {
            tracing::info!(target: "http", "authorizer {}: the token has none of the route's scopes {scopes:?}", self.name);
            return Verdict::Refuse(Refusal::Forbidden);
        }
        let context = match self.style {
            Style::HttpApi => {
                let scopes = if scopes.is_empty() { Value::Null } else { json!(granted) };
                json!({"jwt": {"claims": api_gateway_claims(&claims, self.style), "scopes": scopes}})
            }
            Style::Cognito => json!({"claims": api_gateway_claims(&claims, self.style)}),
        };
        Verdict::Allow(Granted { context, usage_key: None })
    }

    /// The token's claims once its signature is checked (or not, with `--ignore-jwt-signature`).
    async fn verified_claims(&self, token: &str) -> Result<Map<String, Value>, String> {
        if let Keys::Unchecked = &self.keys {
            // Any algorithm, `none` included: only the claims count.
            return unverified_claims(token);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT ({e})"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512) {
            return Err(format!("signed with {:?}; API Gateway accepts RSA signatures only", header.alg));
        }
        let key = match &self.keys {
            Keys::Unchecked => unreachable!("returned above"),
            Keys::Unavailable(reason) => return Err(reason.clone()),
            Keys::Fixed(set) => key_of(set, header.kid.as_deref())?,
            Keys::Discovered(cached) => self.discovered_key(cached, header.kid.as_deref()).await?,
        };
        let mut validation = Validation::new(header.alg);
        // The claims are checked below, by API Gateway's rules rather than the library's (no leeway, `client_id`).
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("its signature does not verify ({e})"))
    }

    async fn discovered_key(
        &self,
        cached: &tokio::sync::Mutex<Option<(Instant, JwkSet)>>,
        kid: Option<&str>,
    ) -> Result<DecodingKey, String> {
        let mut cached = cached.lock().await;
        let stale = match &*cached {
            None => true,
            Some((fetched, set)) => {
                fetched.elapsed() > KEYS_KEPT
                    || (key_of(set, kid).is_err() && fetched.elapsed() > REFETCH_AT_MOST_EVERY)
            }
        };
        if stale {
            let set = fetch_key_set(&self.issuer).await?;
            *cached = Some((Instant::now(), set));
        }
        key_of(&cached.as_ref().expect("just filled").1, kid)
    }

    /// A Cognito authorizer takes the pool's ID tokens, or its access tokens when the route names scopes
    /// (developer guide, "Integrate a REST API with an Amazon Cognito user pool").
    fn check_token_use(&self, claims: &Map<String, Value>, scopes: &[String]) -> Result<(), String> {
        let wanted = if scopes.is_empty() { "id" } else { "access" };
        match (self.style, claims.get("token_use").and_then(Value::as_str)) {
            (Style::Cognito, Some(used)) if used != wanted => {
                Err(format!("an {used} token, where this route takes {wanted} tokens"))
            }
            _ => Ok(()),
        }
    }

    /// API Gateway's claim rules, at `now` (seconds since the epoch).
    fn check_claims(&self, claims: &Map<String, Value>, now: i64) -> Result<(), String> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(format!("iss is not {}", self.issuer));
        }
        if !self.audiences.is_empty() {
            let audiences: Vec<&str> = match (claims.get("aud"), claims.get("client_id")) {
                (Some(Value::String(aud)), _) => vec![aud],
                (Some(Value::Array(list)), _) => list.iter().filter_map(Value::as_str).collect(),
                // client_id counts only when the token has no aud.
                (None, Some(Value::String(client))) => vec![client],
                _ => Vec::new(),
            };
            if !audiences.iter().any(|aud| self.audiences.iter().any(|a| a == aud)) {
                return Err("its audience (aud, or client_id without aud) is not one of the authorizer's".to_string());
            }
        }
        let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|t| t as i64);
        match time("exp") {
            Some(exp) if exp > now => {}
            Some(_) => return Err("it has expired (exp)".to_string()),
            None => return Err("it has no exp".to_string()),
        }
        if time("nbf").is_some_and(|nbf| nbf > now) {
            return Err("it is not valid yet (nbf)".to_string());
        }
        if time("iat").is_some_and(|iat| iat > now) {
            return Err("it was issued in the future (iat)".to_string());
        }
        Ok(())
    }
}

/// The claims of a token whatever its header and signature say: the middle part, base64url-decoded JSON.
fn unverified_claims(token: &str) -> Result<Map<String, Value>, String> {
    use base64::Engine;
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT (three dot-separated parts)".to_string());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("its claims are not base64url ({e})"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("its claims are not a JSON object ({e})"))
}

/// `Bearer <token>` or the bare token.
fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    }
}

fn key_of(set: &JwkSet, kid: Option<&str>) -> Result<DecodingKey, String> {
    let jwk = match kid {
        Some(kid) => set.find(kid).ok_or_else(|| format!("the issuer's key set has no key {kid}"))?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return Err("the token names no key (kid) and the issuer has several".to_string()),
    };
    DecodingKey::from_jwk(jwk).map_err(|e| format!("the issuer's key {kid:?} is unusable ({e})"))
}

fn read_key_file(file: &Path) -> Result<JwkSet, String> {
    let text = std::fs::read(file).map_err(|e| format!("cannot read the JWKS file {}: {e}", file.display()))?;
    serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not a JSON Web Key Set ({{\"keys\": [...]}}): {e}", file.display()))
}

/// Plain-HTTP loopback issuers only: API Gateway fetches keys from the internet, ftb-offline does not (and a local
/// HTTPS issuer's certificate would not be trusted anyway).
fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The issuer's key set, found through its OpenID configuration.
async fn fetch_key_set(issuer: &str) -> Result<JwkSet, String> {
    let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let configuration: Value = get_json(&discovery).await?;
    let jwks_uri = configuration
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{discovery} names no jwks_uri"))?;
    if !is_loopback_url(jwks_uri) {
        return Err(format!("the issuer's jwks_uri {jwks_uri} is not on this machine"));
    }
    let set: Value = get_json(jwks_uri).await?;
    serde_json::from_value(set).map_err(|e| format!("{jwks_uri} is not a JSON Web Key Set: {e}"))
}

/// A JSON document from a loopback URL, the whole exchange (body included) within [`FETCH_TIMEOUT`].
async fn get_json(url: &str) -> Result<Value, String> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_json(url))
        .await
        .map_err(|_| format!("{url} did not answer within {} s", FETCH_TIMEOUT.as_secs()))?
}

async fn fetch_json(url: &str) -> Result<Value, String> {
    use http_body_util::{BodyExt, Empty, Limited};
    use hyper_util::client::legacy::Client;
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let response = client.get(uri).await.map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let body =
        Limited::new(response.into_body(), 1024 * 1024).collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))
}

/// The token's scopes: `scope` (space-separated) or `scp` (a list or a string).
fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let words = |text: &str| text.split_whitespace().map(String::from).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(scope)), _) => words(scope),
        (_, Some(Value::Array(list))) => list.iter().filter_map(Value::as_str).map(String::from).collect(),
        (_, Some(Value::String(scp))) => words(scp),
        _ => Vec::new(),
    }
}

/// Claims as API Gateway hands them over (captured from AWS): numbers and booleans as strings, lists as
/// `[a b]`, objects as JSON text, null claims left out. Cognito authorizers write `exp` and `iat` as dates.
fn api_gateway_claims(claims: &Map<String, Value>, style: Style) -> Map<String, Value> {
    fn plain(value: &Value) -> String {
        match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }
    claims
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| {
            let text = match value {
                Value::Number(n) if style == Style::Cognito && (name == "exp" || name == "iat") => n
                    .as_i64()
                    .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
                    .map(|date| date.format("%a %b %d %H:%M:%S UTC %Y").to_string())
                    .unwrap_or_else(|| n.to_string()),
                Value::Array(items) => format!("[{}]", items.iter().map(plain).collect::<Vec<_>>().join(" ")),
                other => plain(other),
            };
            (name.clone(), Value::String(text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(audiences: &[&str]) -> JwtAuthorizer {
        JwtAuthorizer {
            name: "jwt".into(),
            issuer: "http://127.0.0.1:9/issuer".into(),
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            identity_source: IdentitySource::Header("authorization".into()),
            keys: Keys::Unchecked,
            style: Style::HttpApi,
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn claims_follow_api_gateways_rules() {
        let jwt = authorizer(&["app"]);
        let iss = "http://127.0.0.1:9/issuer";
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "aud": "app", "exp": 200})), 100).is_ok());
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "aud": ["x", "app"], "exp": 200})), 100).is_ok());
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "client_id": "app", "exp": 200})), 100).is_ok());
        let aud_wins = claims(json!({"iss": iss, "aud": "other", "client_id": "app", "exp": 200}));
        assert!(jwt.check_claims(&aud_wins, 100).is_err(), "client_id counts only without aud");
        assert!(jwt.check_claims(&claims(json!({"iss": format!("{iss}/"), "aud": "app", "exp": 200})), 100).is_err());
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "aud": "app", "exp": 100})), 100).is_err(), "expired");
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "aud": "app"})), 100).is_err(), "no exp");
        assert!(jwt.check_claims(&claims(json!({"iss": iss, "aud": "app", "exp": 200, "nbf": 150})), 100).is_err());
    }

    #[test]
    fn claims_reach_the_integration_as_strings() {
        let claims = claims(
            json!({"sub": "u", "exp": 1787996002, "admin": true, "groups": ["a", "b"], "gone": null, "o": {"k": 1}}),
        );
        let http = api_gateway_claims(&claims, Style::HttpApi);
        assert_eq!(
            Value::Object(http),
            json!({"sub": "u", "exp": "1787996002", "admin": "true", "groups": "[a b]", "o": "{\"k\":1}"})
        );
        let cognito = api_gateway_claims(&claims, Style::Cognito);
        assert_eq!(cognito["exp"], "Sat Aug 29 09:33:22 UTC 2026");
    }

    #[test]
    fn tokens_and_issuers_are_read_as_api_gateway_reads_them() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert!(is_loopback_url("http://127.0.0.1:4010/issuer") && is_loopback_url("http://localhost/x"));
        assert!(
            is_loopback_url("http://[::1]:80/") && !is_loopback_url("https://cognito-idp.eu-west-1.amazonaws.com/p")
        );
        assert!(!is_loopback_url("https://localhost/issuer"), "no TLS client for local issuers");
        assert_eq!(token_scopes(&claims(json!({"scope": "a b"}))), ["a", "b"]);
        assert_eq!(token_scopes(&claims(json!({"scp": ["a"]}))), ["a"]);
    }
}
