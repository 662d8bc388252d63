//! Authorizers as `serverless.yml` spells them (Serverless v3): an `http` event's `authorizer` and a `$connect`
//! route's `authorizer`, and the identity sources every API's authorizers read (the HTTP API's authorizers are in
//! [`super::http_api_authorizers`], API keys in [`super::api_keys`]). Serverless's defaults are applied here
//! (`lib/plugins/aws/package/compile/events/api-gateway/lib/authorizers.js` and `validate.js`, `http-api.js`,
//! `websockets/lib/validate.js` of serverless@3.40.0); the plan resolves the functions they name.

use super::error::ConfigError;
use super::fields::string_list;
use super::variables::{kind_of, text_of};
use serde::Serialize;
use serde_json::Value;

/// API Gateway's default authorizer result TTL for REST APIs (CreateAuthorizer: "If not specified, the default
/// value is 300"); Serverless applies it too.
pub const DEFAULT_REST_TTL_SECONDS: u32 = 300;
/// The longest TTL API Gateway accepts.
pub const MAX_TTL_SECONDS: u32 = 3600;

/// An `authorizer:` on an `http` (REST) or `websocket` `$connect` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Authorizer {
    /// A Lambda authorizer (API Gateway's `CUSTOM`).
    Lambda(LambdaAuthorizer),
    /// A Cognito user pool authorizer: the ID or access token of the pool, checked as a JWT.
    Cognito(CognitoAuthorizer),
    /// `aws_iam`: SigV4-signed requests checked against IAM, which cannot be emulated.
    Iam,
    /// `{type, authorizerId}`: an authorizer created outside this service, which cannot run here.
    External { id: String },
}

/// A Lambda authorizer of a REST or WebSocket API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaAuthorizer {
    /// The authorizer's name (the function's key unless `name` says otherwise): results are cached per name.
    pub name: String,
    /// The function: a key of `functions`, its deployed name, or a Lambda ARN, as written.
    pub function: String,
    /// `TOKEN` (the default for REST) sends the identity header's value alone; `REQUEST` sends the request.
    pub token: bool,
    /// From mapping expressions: `method.request.header.Authorization`, `route.request.querystring.token`, …
    pub identity_sources: Vec<IdentitySource>,
    /// TOKEN only: a token that does not match is refused without calling the function.
    pub validation_expression: Option<String>,
    /// 0 turns caching off.
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CognitoAuthorizer {
    /// `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>`.
    pub pool_arn: String,
    /// When given, the token must be an access token holding one of them.
    pub scopes: Vec<String>,
    pub identity_source: IdentitySource,
}

/// Where an authorizer reads the caller's identity: one mapping expression, in any API's spelling
/// (`method.request.header.X` for REST, `$request.header.X` for HTTP APIs, `route.request.header.X` for
/// WebSocket APIs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentitySource {
    /// A request header, its name lower-case.
    Header(String),
    Query(String),
    StageVariable(String),
    /// A `requestContext` field by its dotted path (`identity.sourceIp`).
    Context(String),
}

impl IdentitySource {
    /// Parses one expression; `None` for anything API Gateway does not accept as an identity source.
    pub fn parse(expression: &str) -> Option<Self> {
        let expression = expression.trim();
        let request = ["method.request.", "route.request.", "$request."]
            .iter()
            .find_map(|prefix| expression.strip_prefix(prefix));
        let named = |name: &str| (!name.is_empty()).then(|| name.to_string());
        if let Some(part) = request {
            let (kind, name) = part.split_once('.')?;
            return match kind.to_ascii_lowercase().as_str() {
                "header" | "multivalueheader" => named(name).map(|n| Self::Header(n.to_ascii_lowercase())),
                "querystring" | "multivaluequerystring" => named(name).map(Self::Query),
                _ => None,
            };
        }
        if let Some(name) = expression.strip_prefix("stageVariables.").or(expression.strip_prefix("$stageVariables.")) {
            return named(name).map(Self::StageVariable);
        }
        let context = expression.strip_prefix("context.").or(expression.strip_prefix("$context."))?;
        named(context).map(Self::Context)
    }

    pub(super) fn parse_all(expressions: Vec<String>, path: &str) -> Result<Vec<Self>, ConfigError> {
        expressions
            .iter()
            .map(|expression| {
                Self::parse(expression).ok_or_else(|| {
                    ConfigError::at_path(
                        path,
                        format!("`{expression}` is not an identity source; expected a header, query string, stage variable or context value, such as `method.request.header.Authorization`, `$request.querystring.token` or `route.request.header.Auth`"),
                    )
                })
            })
            .collect()
    }

    pub(super) fn header(name: &str) -> Self {
        Self::Header(name.to_ascii_lowercase())
    }
}

/// An `http` event's `authorizer` (`name`, `arn`, `aws_iam`, or the object form).
pub fn parse_rest(value: &Value, path: &str) -> Result<Authorizer, ConfigError> {
    let map = match value {
        Value::String(text) => return Ok(from_reference(text)),
        Value::Object(map) => map,
        other => return Err(expected_authorizer(path, other)),
    };
    let kind = map.get("type").and_then(Value::as_str).map(str::to_ascii_uppercase);
    if let Some(id) = map.get("authorizerId") {
        return Ok(Authorizer::External { id: text_of(id) });
    }
    if kind.as_deref() == Some("AWS_IAM") {
        return Ok(Authorizer::Iam);
    }
    let name = map.get("name").and_then(Value::as_str);
    let arn = map.get("arn").map(describe_reference);
    let reference = match (&arn, name) {
        (Some(arn), _) => arn.clone(),
        (None, Some(name)) => name.to_string(),
        (None, None) => {
            return Err(ConfigError::at_path(path, "expected `name` (a function of this service) or `arn`"));
        }
    };
    let cognito = kind.as_deref() == Some("COGNITO_USER_POOLS") || is_cognito_arn(&reference);
    if reference == "aws_iam" {
        return Ok(Authorizer::Iam);
    }
    let identity_path = format!("{path}.identitySource");
    let identity_source =
        IdentitySource::parse_all(string_list(map.get("identitySource"), &identity_path)?, &identity_path)?;
    if cognito {
        return Ok(Authorizer::Cognito(CognitoAuthorizer {
            pool_arn: reference,
            scopes: string_list(map.get("scopes"), &format!("{path}.scopes"))?,
            identity_source: identity_source
                .into_iter()
                .next()
                .unwrap_or_else(|| IdentitySource::header("Authorization")),
        }));
    }
    let token = match kind.as_deref() {
        None | Some("TOKEN") => true,
        Some("REQUEST") => false,
        Some(other) => {
            return Err(ConfigError::at_path(
                format!("{path}.type"),
                format!("expected token, request or COGNITO_USER_POOLS, found `{other}`"),
            ))
        }
    };
    let ttl_seconds =
        ttl(map.get("resultTtlInSeconds"), &format!("{path}.resultTtlInSeconds"))?.unwrap_or(DEFAULT_REST_TTL_SECONDS);
    // Serverless: a REQUEST authorizer without caching has no identity source unless one is given.
    let identity_sources = match identity_source {
        given if !given.is_empty() => given,
        _ if !token && ttl_seconds == 0 => Vec::new(),
        _ => vec![IdentitySource::header("Authorization")],
    };
    if token && (identity_sources.len() != 1 || !matches!(identity_sources[0], IdentitySource::Header(_))) {
        return Err(ConfigError::at_path(
            identity_path,
            "a TOKEN authorizer reads exactly one header (`method.request.header.<Name>`)",
        ));
    }
    let validation_expression = map.get("identityValidationExpression").and_then(Value::as_str).map(String::from);
    Ok(Authorizer::Lambda(LambdaAuthorizer {
        name: name.map(String::from).unwrap_or_else(|| function_of(&reference)),
        function: reference,
        token,
        identity_sources,
        validation_expression,
        ttl_seconds,
    }))
}

/// A `websocket` `$connect` event's `authorizer`: a REQUEST authorizer whose identity is, by default, the `Auth`
/// header (Serverless's default, not `Authorization`). WebSocket APIs cache no authorizer results.
pub fn parse_websocket(value: &Value, path: &str) -> Result<Authorizer, ConfigError> {
    let (reference, name, identity) = match value {
        Value::String(text) => (text.clone(), None, Vec::new()),
        Value::Object(map) => {
            let name = map.get("name").and_then(Value::as_str);
            let reference = match (map.get("arn"), name) {
                (Some(arn), _) => describe_reference(arn),
                (None, Some(name)) => name.to_string(),
                (None, None) => {
                    return Err(ConfigError::at_path(path, "expected `name` (a function of this service) or `arn`"))
                }
            };
            let identity_path = format!("{path}.identitySource");
            let identity =
                IdentitySource::parse_all(string_list(map.get("identitySource"), &identity_path)?, &identity_path)?;
            (reference, name.map(String::from), identity)
        }
        other => return Err(expected_authorizer(path, other)),
    };
    let identity_sources = if identity.is_empty() { vec![IdentitySource::header("Auth")] } else { identity };
    Ok(Authorizer::Lambda(LambdaAuthorizer {
        name: name.unwrap_or_else(|| function_of(&reference)),
        function: reference,
        token: false,
        identity_sources,
        validation_expression: None,
        ttl_seconds: 0,
    }))
}

/// A REST `authorizer: <text>`: `aws_iam`, a Cognito user pool ARN, or a function (name or ARN).
fn from_reference(text: &str) -> Authorizer {
    if text == "aws_iam" {
        return Authorizer::Iam;
    }
    if is_cognito_arn(text) {
        return Authorizer::Cognito(CognitoAuthorizer {
            pool_arn: text.to_string(),
            scopes: Vec::new(),
            identity_source: IdentitySource::header("Authorization"),
        });
    }
    Authorizer::Lambda(LambdaAuthorizer {
        name: function_of(text),
        function: text.to_string(),
        token: true,
        identity_sources: vec![IdentitySource::header("Authorization")],
        validation_expression: None,
        ttl_seconds: DEFAULT_REST_TTL_SECONDS,
    })
}

fn is_cognito_arn(text: &str) -> bool {
    text.starts_with("arn:aws:cognito-idp:")
}

/// The function's name in a Lambda ARN, or the reference itself: what Serverless names the authorizer.
fn function_of(reference: &str) -> String {
    reference
        .rsplit_once(":function:")
        .map_or(reference, |(_, name)| name)
        .split(':')
        .next()
        .unwrap_or(reference)
        .to_string()
}

/// An ARN as written: a string, or the logical id an intrinsic names (`Fn::GetAtt: [AuthLambdaFunction, Arn]`
/// → `AuthLambdaFunction`), which the plan resolves to a function of this file.
pub(super) fn describe_reference(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("Fn::GetAtt")
            .and_then(|v| v.get(0).and_then(Value::as_str).map(String::from))
            .or_else(|| map.get("Ref").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    }
}

pub(super) fn ttl(value: Option<&Value>, path: &str) -> Result<Option<u32>, ConfigError> {
    let seconds = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match seconds {
        Some(seconds) if seconds <= MAX_TTL_SECONDS as u64 => Ok(Some(seconds as u32)),
        _ => Err(ConfigError::at_path(path, format!("expected a number of seconds from 0 to {MAX_TTL_SECONDS}"))),
    }
}

pub(super) fn expected_authorizer(path: &str, found: &Value) -> ConfigError {
    ConfigError::at_path(
        path,
        format!("expected a function name, an ARN, `aws_iam` or an object with `name`, found {}", kind_of(found)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serverless_defaults_apply() {
        let Authorizer::Lambda(token) = parse_rest(&json!("auth"), "a").unwrap() else { panic!() };
        assert!(token.token);
        assert_eq!(
            (token.ttl_seconds, token.identity_sources.as_slice()),
            (300, &[IdentitySource::header("authorization")][..])
        );
        let request = parse_rest(&json!({"name": "auth", "type": "request", "resultTtlInSeconds": 0}), "a").unwrap();
        let Authorizer::Lambda(request) = request else { panic!() };
        assert!(!request.token && request.identity_sources.is_empty(), "no identity source without caching");
        let ws = parse_websocket(&json!("auth"), "a").unwrap();
        let Authorizer::Lambda(ws) = ws else { panic!() };
        assert_eq!(ws.identity_sources, [IdentitySource::Header("auth".into())]);
        assert_eq!(parse_rest(&json!("aws_iam"), "a").unwrap(), Authorizer::Iam);
        assert_eq!(parse_rest(&json!({"type": "aws_iam"}), "a").unwrap(), Authorizer::Iam);
        let pool = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc";
        assert!(
            matches!(parse_rest(&json!({"arn": pool, "scopes": ["email"]}), "a").unwrap(), Authorizer::Cognito(c) if c.scopes == ["email"])
        );
    }

    #[test]
    fn identity_sources_in_each_apis_spelling() {
        assert_eq!(
            IdentitySource::parse("method.request.header.X-Token"),
            Some(IdentitySource::Header("x-token".into()))
        );
        assert_eq!(IdentitySource::parse("$request.querystring.token"), Some(IdentitySource::Query("token".into())));
        assert_eq!(IdentitySource::parse("route.request.querystring.t"), Some(IdentitySource::Query("t".into())));
        assert_eq!(
            IdentitySource::parse("$context.identity.sourceIp"),
            Some(IdentitySource::Context("identity.sourceIp".into()))
        );
        assert_eq!(IdentitySource::parse("stageVariables.v"), Some(IdentitySource::StageVariable("v".into())));
        assert_eq!(IdentitySource::parse("method.request.path.id"), None, "path parameters cannot be identity sources");
        assert_eq!(IdentitySource::parse("Authorization"), None);
    }

    #[test]
    fn mistakes_name_their_key() {
        let err =
            parse_rest(&json!({"name": "a", "type": "oauth"}), "functions.f.events.0.http.authorizer").unwrap_err();
        assert!(err.to_string().contains("functions.f.events.0.http.authorizer.type"), "{err}");
        let err = parse_rest(&json!({"name": "a", "resultTtlInSeconds": 7200}), "x").unwrap_err();
        assert!(err.to_string().contains("0 to 3600"), "{err}");
        let authorizers = json!({"cached": {"type": "request", "functionName": "auth", "resultTtlInSeconds": 60}});
        let err = crate::config::http_api_authorizers::parse_http_api_authorizers(Some(&authorizers)).unwrap_err();
        assert!(err.to_string().contains("identitySource"), "{err}");
        let err =
            crate::config::api_keys::parse_api_keys(Some(&json!([{"name": "short", "value": "abc"}]))).unwrap_err();
        assert!(err.to_string().contains("20 characters"), "{err}");
    }
}
