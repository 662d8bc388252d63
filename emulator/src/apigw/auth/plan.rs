//! Each route's guard, built with the rest of the plan: the authorizer a route names resolved to a function of
//! this service (or to a JWT issuer), one authorizer per name shared by its routes and their cache, and the
//! authorizers that cannot run here (IAM, an authorizer of another stack, a function ARN that is not local)
//! reported at start and refused at request time, never let through. `--no-auth` builds no guard at all.

use super::cache::ResultCache;
use super::jwt::{JwtAuthorizer, Keys, Style};
use super::lambda_authorizer::{Flavour, LambdaAuthorizer};
use crate::config::authorizers::{self as config, Authorizer, IdentitySource};
use crate::config::http_api_authorizers::{HttpApiAuthorizer, HttpApiRouteAuthorizer};
use crate::config::{ConfigError, Service};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The command line's switches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthOptions {
    /// `--no-auth`: no authorizer and no API key is checked (serverless-offline's `noAuth`).
    pub no_auth: bool,
    /// `--ignore-jwt-signature`: JWT claims are checked, their signatures are not.
    pub ignore_jwt_signature: bool,
}

/// What stands before one route.
#[derive(Clone)]
pub enum RouteGuard {
    Lambda(Arc<LambdaAuthorizer>),
    Jwt {
        authorizer: Arc<JwtAuthorizer>,
        scopes: Vec<String>,
    },
    /// An authorizer that cannot run here: its requests fail, and the log says why.
    Unavailable(Arc<str>),
}

impl RouteGuard {
    /// How route lines name it: `authorizer auth`, `JWT authorizer jwt`.
    pub fn describe(&self) -> String {
        match self {
            RouteGuard::Lambda(authorizer) => format!("authorizer {}", authorizer.name),
            RouteGuard::Jwt { authorizer, .. } => format!("JWT authorizer {}", authorizer.name),
            RouteGuard::Unavailable(_) => "an authorizer that cannot run locally".to_string(),
        }
    }
}

impl std::fmt::Debug for RouteGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteGuard::Lambda(authorizer) => write!(f, "Lambda authorizer {}", authorizer.name),
            RouteGuard::Jwt { authorizer, scopes } => write!(f, "JWT authorizer {} {scopes:?}", authorizer.name),
            RouteGuard::Unavailable(_) => write!(f, "unavailable authorizer"),
        }
    }
}

/// Builds the guards of one plan.
pub struct Guard<'s> {
    service: &'s Service,
    options: AuthOptions,
    /// How long API Gateway waits for a Lambda authorizer.
    timeout: Duration,
    /// Each Lambda authorizer by API and name, with the definition it was built from.
    lambda: HashMap<String, (Arc<LambdaAuthorizer>, Option<config::LambdaAuthorizer>)>,
    jwt: HashMap<String, Arc<JwtAuthorizer>>,
}

impl<'s> Guard<'s> {
    pub fn new(service: &'s Service, options: AuthOptions, timeout: Duration) -> Self {
        Self { service, options, timeout, lambda: HashMap::new(), jwt: HashMap::new() }
    }

    pub fn no_auth(&self) -> bool {
        self.options.no_auth
    }

    /// The guard of a REST route (`route` names it in warnings; `path` is its `authorizer`'s key path).
    pub fn rest(
        &mut self,
        authorizer: &Authorizer,
        route: &str,
        path: &str,
    ) -> Result<Option<RouteGuard>, ConfigError> {
        self.rest_or_websocket(authorizer, route, path, "rest")
    }

    /// The guard of a WebSocket API's `$connect`.
    pub fn websocket(&mut self, authorizer: &Authorizer, path: &str) -> Result<Option<RouteGuard>, ConfigError> {
        self.rest_or_websocket(authorizer, "$connect", path, "websocket")
    }

    fn rest_or_websocket(
        &mut self,
        authorizer: &Authorizer,
        route: &str,
        path: &str,
        api: &str,
    ) -> Result<Option<RouteGuard>, ConfigError> {
        if self.options.no_auth {
            return Ok(None);
        }
        let guard = match authorizer {
            Authorizer::Iam => unavailable(route, "`aws_iam` authorization (SigV4 checked against IAM policies)"),
            Authorizer::External { id } => {
                unavailable(route, &format!("the authorizer {id}, managed outside this service"))
            }
            Authorizer::Cognito(cognito) => {
                let Some((region, pool)) = cognito_pool(&cognito.pool_arn) else {
                    return Err(ConfigError::at_path(
                        path,
                        format!("`{}` is not a Cognito user pool ARN", cognito.pool_arn),
                    ));
                };
                let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool}");
                let jwt = self.jwt_authorizer(
                    &cognito.pool_arn,
                    &issuer,
                    Vec::new(),
                    &cognito.identity_source,
                    Style::Cognito,
                    route,
                )?;
                RouteGuard::Jwt { authorizer: jwt, scopes: cognito.scopes.clone() }
            }
            Authorizer::Lambda(lambda) => {
                let Some(function) = self.function(&lambda.function, route, path)? else {
                    return Ok(Some(unavailable(
                        route,
                        &format!("the function {}, which is not part of this service", lambda.function),
                    )));
                };
                let key = format!("{api}:{}", lambda.name);
                if let Some(existing) = self.shared(&key, lambda, route) {
                    return Ok(Some(RouteGuard::Lambda(existing)));
                }
                let validation = match &lambda.validation_expression {
                    Some(expression) => Some(regex_lite::Regex::new(&format!("^(?:{expression})$")).map_err(|e| {
                        ConfigError::at_path(
                            format!("{path}.identityValidationExpression"),
                            format!("not a valid regular expression: {e}"),
                        )
                    })?),
                    None => None,
                };
                let authorizer = Arc::new(LambdaAuthorizer {
                    name: lambda.name.clone(),
                    function,
                    flavour: if lambda.token { Flavour::RestToken } else { Flavour::Request },
                    identity_sources: lambda.identity_sources.clone(),
                    validation,
                    cache: ResultCache::new(Duration::from_secs(lambda.ttl_seconds as u64)),
                    timeout: self.timeout,
                });
                self.lambda.insert(key, (authorizer.clone(), Some(lambda.clone())));
                RouteGuard::Lambda(authorizer)
            }
        };
        Ok(Some(guard))
    }

    /// The authorizer already built under `key`. An API has one authorizer per name, so a route that defines it
    /// differently gets the first definition, and a warning.
    fn shared(&self, key: &str, definition: &config::LambdaAuthorizer, route: &str) -> Option<Arc<LambdaAuthorizer>> {
        let (existing, first) = self.lambda.get(key)?;
        if first.as_ref() != Some(definition) {
            tracing::warn!(target: "http", "{route}: authorizer {} is defined differently on another route; one API has one authorizer per name, and the first definition is used", existing.name);
        }
        Some(existing.clone())
    }

    /// The guard of an HTTP API route.
    pub fn http_api(
        &mut self,
        authorizer: &HttpApiRouteAuthorizer,
        route: &str,
        path: &str,
    ) -> Result<Option<RouteGuard>, ConfigError> {
        if self.options.no_auth {
            return Ok(None);
        }
        let (name, scopes) = match authorizer {
            HttpApiRouteAuthorizer::Iam => {
                return Ok(Some(unavailable(route, "`aws_iam` authorization (SigV4 checked against IAM policies)")))
            }
            HttpApiRouteAuthorizer::External { id } => {
                return Ok(Some(unavailable(route, &format!("the authorizer {id}, managed outside this service"))))
            }
            HttpApiRouteAuthorizer::Named { name, scopes } => (name, scopes),
        };
        let Some(definition) = self.service.auth.http_api_authorizers.get(name) else {
            let known: Vec<&str> = self.service.auth.http_api_authorizers.keys().map(String::as_str).collect();
            return Err(ConfigError::at_path(
                format!("{path}.name"),
                format!(
                    "no authorizer `{name}` in provider.httpApi.authorizers (found: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
        };
        let guard = match definition {
            HttpApiAuthorizer::Jwt(jwt) => {
                let authorizer = self.jwt_authorizer(
                    name,
                    &jwt.issuer,
                    jwt.audiences.clone(),
                    &jwt.identity_source,
                    Style::HttpApi,
                    route,
                )?;
                RouteGuard::Jwt { authorizer, scopes: scopes.clone() }
            }
            HttpApiAuthorizer::Lambda(lambda) => {
                let key = format!("httpApi:{name}");
                if let Some((existing, _)) = self.lambda.get(&key) {
                    return Ok(Some(RouteGuard::Lambda(existing.clone())));
                }
                let definition_path = format!("provider.httpApi.authorizers.{name}");
                let Some(function) = self.function(&lambda.function, route, &definition_path)? else {
                    return Ok(Some(unavailable(
                        route,
                        &format!("the function {}, which is not part of this service", lambda.function),
                    )));
                };
                let flavour = if lambda.payload_v2 {
                    Flavour::HttpApiV2 { simple: lambda.simple_responses }
                } else {
                    Flavour::HttpApiV1
                };
                let authorizer = Arc::new(LambdaAuthorizer {
                    name: lambda.name.clone(),
                    function,
                    flavour,
                    identity_sources: lambda.identity_sources.clone(),
                    validation: None,
                    cache: ResultCache::new(Duration::from_secs(lambda.ttl_seconds as u64)),
                    timeout: self.timeout,
                });
                self.lambda.insert(key, (authorizer.clone(), None));
                RouteGuard::Lambda(authorizer)
            }
        };
        Ok(Some(guard))
    }

    fn jwt_authorizer(
        &mut self,
        name: &str,
        issuer: &str,
        audiences: Vec<String>,
        identity_source: &IdentitySource,
        style: Style,
        route: &str,
    ) -> Result<Arc<JwtAuthorizer>, ConfigError> {
        if let Some(existing) = self.jwt.get(name) {
            return Ok(existing.clone());
        }
        let keys = Keys::for_issuer(issuer, &self.service.auth.jwks_files, self.options.ignore_jwt_signature)
            .map_err(|message| ConfigError::at_path("custom.ftb-offline.jwks", message))?;
        match &keys {
            Keys::Unavailable(reason) => {
                tracing::warn!(target: "http", "{route}: authorizer {name} refuses every token: {reason}")
            }
            Keys::Unchecked => {
                tracing::warn!(target: "http", "{route}: authorizer {name} checks claims but not signatures (--ignore-jwt-signature)")
            }
            Keys::Fixed(_) | Keys::Discovered(_) => {}
        }
        let authorizer = Arc::new(JwtAuthorizer {
            name: name.to_string(),
            issuer: issuer.to_string(),
            audiences,
            identity_source: identity_source.clone(),
            keys,
            style,
        });
        self.jwt.insert(name.to_string(), authorizer.clone());
        Ok(authorizer)
    }

    /// The key of the function a reference names; `None` for the ARN of a function this service does not have.
    fn function(&self, reference: &str, route: &str, path: &str) -> Result<Option<String>, ConfigError> {
        if let Some(function) = self.service.function(reference) {
            return Ok(Some(function.key.clone()));
        }
        if reference.starts_with("arn:") {
            tracing::debug!(target: "http", "{route}: authorizer function {reference} is not local");
            return Ok(None);
        }
        Err(ConfigError::at_path(
            path,
            format!("no function `{reference}` in this service; expected a key of `functions` or a Lambda ARN"),
        ))
    }
}

/// A guard that refuses every request, announced at start.
fn unavailable(route: &str, what: &str) -> RouteGuard {
    let reason = format!(
        "{route} is protected by {what}, which cannot be checked locally: its requests are refused with a 500 (start with --no-auth to open every route)"
    );
    tracing::warn!(target: "http", "{reason}");
    RouteGuard::Unavailable(reason.into())
}

/// `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>` → region and pool id.
fn cognito_pool(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:cognito-idp:")?;
    let (region, rest) = rest.split_once(':')?;
    let pool = rest.split_once(":userpool/")?.1;
    (!region.is_empty() && !pool.is_empty()).then_some((region, pool))
}
