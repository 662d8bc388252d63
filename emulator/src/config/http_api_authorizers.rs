//! The HTTP API's authorizers as `serverless.yml` spells them (Serverless v3): `provider.httpApi.authorizers`
//! (JWT and Lambda `request` authorizers) and an `httpApi` event's `authorizer` naming one of them. Serverless's
//! defaults are applied here (`lib/plugins/aws/package/compile/events/http-api.js` of serverless@3.40.0); the plan
//! resolves the functions they name.

use super::authorizers::{describe_reference, expected_authorizer, ttl, IdentitySource};
use super::error::ConfigError;
use super::fields::string_list;
use super::variables::{kind_of, text_of};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

/// An `httpApi` event's `authorizer:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum HttpApiRouteAuthorizer {
    /// `{name, scopes}`: one of `provider.httpApi.authorizers`.
    Named { name: String, scopes: Vec<String> },
    /// `{type: aws_iam}`.
    Iam,
    /// `{id}`: an authorizer created outside this service.
    External { id: String },
}

/// One of `provider.httpApi.authorizers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum HttpApiAuthorizer {
    Jwt(JwtAuthorizer),
    Lambda(HttpApiLambdaAuthorizer),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuthorizer {
    /// `$request.header.Authorization` unless given.
    pub identity_source: IdentitySource,
    /// The token's `iss` must equal it exactly.
    pub issuer: String,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpApiLambdaAuthorizer {
    pub name: String,
    /// `functionName` (a key of `functions`) or `functionArn`.
    pub function: String,
    /// Unset means no caching (Serverless leaves the TTL out, and API Gateway then does not cache).
    pub ttl_seconds: u32,
    /// `enableSimpleResponses`: `{isAuthorized, context}` instead of an IAM policy.
    pub simple_responses: bool,
    /// `payloadVersion` `2.0` (Serverless's default) or `1.0`.
    pub payload_v2: bool,
    /// `$request.header.Authorization`, `$request.querystring.token`, …; none by default.
    pub identity_sources: Vec<IdentitySource>,
}

/// An `httpApi` event's `authorizer`: `{name, scopes}`, `{id}` or `{type: aws_iam}` (a bare name is accepted too).
pub fn parse_http_api_route(value: &Value, path: &str) -> Result<HttpApiRouteAuthorizer, ConfigError> {
    match value {
        Value::String(name) if name == "aws_iam" => Ok(HttpApiRouteAuthorizer::Iam),
        Value::String(name) => Ok(HttpApiRouteAuthorizer::Named { name: name.clone(), scopes: Vec::new() }),
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("aws_iam")) {
                return Ok(HttpApiRouteAuthorizer::Iam);
            }
            if let Some(id) = map.get("id") {
                return Ok(HttpApiRouteAuthorizer::External { id: text_of(id) });
            }
            let Some(name) = map.get("name").and_then(Value::as_str) else {
                return Err(ConfigError::at_path(
                    path,
                    "expected `name` (one of provider.httpApi.authorizers), `id`, or `type: aws_iam`",
                ));
            };
            Ok(HttpApiRouteAuthorizer::Named {
                name: name.to_string(),
                scopes: string_list(map.get("scopes"), &format!("{path}.scopes"))?,
            })
        }
        other => Err(expected_authorizer(path, other)),
    }
}

/// `provider.httpApi.authorizers`.
pub fn parse_http_api_authorizers(value: Option<&Value>) -> Result<IndexMap<String, HttpApiAuthorizer>, ConfigError> {
    const PATH: &str = "provider.httpApi.authorizers";
    let map = match value {
        None | Some(Value::Null) => return Ok(IndexMap::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(ConfigError::at_path(
                PATH,
                format!("expected a mapping of authorizer names, found {}", kind_of(other)),
            ))
        }
    };
    map.iter()
        .map(|(name, definition)| {
            let path = format!("{PATH}.{name}");
            let Value::Object(definition) = definition else {
                return Err(ConfigError::at_path(
                    &path,
                    format!("expected an object with `type: jwt` or `type: request`, found {}", kind_of(definition)),
                ));
            };
            Ok((name.clone(), http_api_authorizer(name, definition, &path)?))
        })
        .collect()
}

fn http_api_authorizer(name: &str, map: &Map<String, Value>, path: &str) -> Result<HttpApiAuthorizer, ConfigError> {
    let kind = map.get("type").and_then(Value::as_str).unwrap_or("jwt").to_ascii_lowercase();
    let identity_path = format!("{path}.identitySource");
    let identity = IdentitySource::parse_all(string_list(map.get("identitySource"), &identity_path)?, &identity_path)?;
    match kind.as_str() {
        "jwt" => {
            let issuer = map.get("issuerUrl").and_then(Value::as_str).ok_or_else(|| {
                ConfigError::at_path(format!("{path}.issuerUrl"), "expected the issuer URL of the JWT authorizer")
            })?;
            Ok(HttpApiAuthorizer::Jwt(JwtAuthorizer {
                identity_source: identity.into_iter().next().unwrap_or_else(|| IdentitySource::header("Authorization")),
                issuer: issuer.to_string(),
                audiences: string_list(map.get("audience"), &format!("{path}.audience"))?,
            }))
        }
        "request" => {
            let function = match (map.get("functionName"), map.get("functionArn")) {
                (Some(Value::String(function)), _) => function.clone(),
                (_, Some(arn)) => describe_reference(arn),
                _ => {
                    return Err(ConfigError::at_path(
                        path,
                        "expected `functionName` (a function of this service) or `functionArn`",
                    ))
                }
            };
            let payload_v2 = match map.get("payloadVersion").map(text_of).as_deref() {
                None | Some("2.0") | Some("2") => true,
                Some("1.0") | Some("1") => false,
                Some(other) => {
                    return Err(ConfigError::at_path(
                        format!("{path}.payloadVersion"),
                        format!("expected '1.0' or '2.0', found {other}"),
                    ))
                }
            };
            let simple_responses = map.get("enableSimpleResponses").and_then(Value::as_bool).unwrap_or(false);
            if simple_responses && !payload_v2 {
                return Err(ConfigError::at_path(
                    format!("{path}.enableSimpleResponses"),
                    "simple responses need payloadVersion '2.0'",
                ));
            }
            let ttl_seconds = ttl(map.get("resultTtlInSeconds"), &format!("{path}.resultTtlInSeconds"))?.unwrap_or(0);
            if ttl_seconds > 0 && identity.is_empty() {
                // Serverless refuses it too: the cache is keyed by the identity sources.
                return Err(ConfigError::at_path(
                    format!("{path}.identitySource"),
                    "expected at least one identity source: a cached authorizer keys its results by them",
                ));
            }
            Ok(HttpApiAuthorizer::Lambda(HttpApiLambdaAuthorizer {
                name: map.get("name").and_then(Value::as_str).unwrap_or(name).to_string(),
                function,
                ttl_seconds,
                simple_responses,
                payload_v2,
                identity_sources: identity,
            }))
        }
        other => Err(ConfigError::at_path(format!("{path}.type"), format!("expected jwt or request, found `{other}`"))),
    }
}
