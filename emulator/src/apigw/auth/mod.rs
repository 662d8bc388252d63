//! Authorizers and API keys, as API Gateway evaluates them before a request reaches its integration.
//!
//! - [`plan`]: each route's [`Guard`], built from `serverless.yml` with the rest of the plan.
//! - [`lambda_authorizer`]: Lambda authorizers of the three APIs, their events, answers and cache.
//! - [`jwt`]: the HTTP API's JWT authorizers and the REST API's Cognito user pool authorizers.
//! - [`policy`]: an authorizer's IAM policy evaluated against a method ARN.
//! - [`identity`]: identity sources read from a request.
//! - [`cache`]: authorizer results kept for their TTL.
//! - [`api_keys`]: the REST API's keys and `private` routes.
//!
//! A check ends in a [`Verdict`]: the request goes on with what `requestContext.authorizer` tells the
//! integration, or is refused with the gateway's own response ([`Refusal::reply`]).

pub mod api_keys;
pub mod cache;
pub mod identity;
pub mod jwt;
pub mod lambda_authorizer;
pub mod plan;
pub mod policy;

pub use plan::{AuthOptions, Guard, RouteGuard};

use super::api::Api;
use super::response::Reply;
use crate::lambda::Lambda;
use lambda_authorizer::AuthRequest;
use serde_json::Value;

/// Runs a route's guard.
pub async fn check(guard: &RouteGuard, lambda: &Lambda, request: &AuthRequest<'_>) -> Verdict {
    match guard {
        RouteGuard::Lambda(authorizer) => authorizer.check(lambda, request).await,
        RouteGuard::Jwt { authorizer, scopes } => authorizer.check(&request.parts, scopes).await,
        RouteGuard::Unavailable(reason) => {
            tracing::warn!(target: "http", "{reason}");
            Verdict::Refuse(Refusal::Failure)
        }
    }
}

/// The outcome of a route's checks.
#[derive(Debug)]
pub enum Verdict {
    Allow(Granted),
    Refuse(Refusal),
}

/// What an allowed request carries on.
#[derive(Debug, Default)]
pub struct Granted {
    /// `requestContext.authorizer` of the integration's event.
    pub context: Value,
    /// A Lambda authorizer's `usageIdentifierKey` (the API key, with `apiKeySourceType: AUTHORIZER`).
    pub usage_key: Option<String>,
}

/// Why the gateway refuses a request, each answered as the API answers it by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing identity, a token failing validation, or an authorizer that said "Unauthorized": 401.
    Unauthorized,
    /// A REST or WebSocket policy's explicit deny: 403.
    ExplicitDeny,
    /// A REST or WebSocket policy that does not allow the method: 403.
    ImplicitDeny,
    /// An HTTP API's deny, a missing scope, or a missing or wrong API key: 403 `Forbidden`.
    Forbidden,
    /// The authorizer failed, timed out, answered malformed output, or cannot run here: 500.
    Failure,
}

impl Refusal {
    /// The default gateway response (REST: `x-amzn-ErrorType` and bodies as captured from API Gateway; see
    /// "Gateway response types" in the developer guide).
    pub fn reply(self, api: Api) -> Reply {
        match (api, self) {
            (Api::HttpApi, Refusal::Unauthorized) => Reply::json(401, r#"{"message":"Unauthorized"}"#, None),
            (Api::HttpApi, Refusal::Failure) => Reply::json(500, r#"{"message":"Internal Server Error"}"#, None),
            (Api::HttpApi, _) => Reply::json(403, r#"{"message":"Forbidden"}"#, None),
            (_, Refusal::Unauthorized) => {
                Reply::json(401, r#"{"message":"Unauthorized"}"#, Some("UnauthorizedException"))
            }
            (_, Refusal::ExplicitDeny) => Reply::json(
                403,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
                Some("AccessDeniedException"),
            ),
            (_, Refusal::ImplicitDeny) => Reply::json(
                403,
                r#"{"Message":"User is not authorized to access this resource"}"#,
                Some("AccessDeniedException"),
            ),
            (_, Refusal::Forbidden) => Reply::json(403, r#"{"message":"Forbidden"}"#, Some("ForbiddenException")),
            (_, Refusal::Failure) => Reply::json(500, r#"{"message": null}"#, Some("AuthorizerConfigurationException")),
        }
    }
}
