//! The HTTP APIs' part of the plan, built from `serverless.yml` and checked before it is applied: the route
//! table, the REST API's stage prefix and binary media types, the HTTP API's CORS, the function URLs, and the
//! integration timeouts.

use super::auth::api_keys::ApiKeys;
use super::auth::{AuthOptions, Guard};
use super::function_urls::FunctionUrls;
use super::routes::RouteTable;
use crate::aws::apigw as limits;
use crate::config::{Cors, Service};
use crate::error::Error;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Default)]
pub struct HttpRoutes {
    pub table: RouteTable,
    pub stage: String,
    /// REST routes are served under `/{stage}` unless `noPrependStageInUrl`.
    prefix_stage: bool,
    pub http_api_cors: Option<Cors>,
    pub binary_media_types: Vec<String>,
    pub rest_timeout: Duration,
    /// HTTP API integration timeout per function key.
    http_api_timeouts: HashMap<String, Duration>,
    pub function_urls: FunctionUrls,
    /// The region function URL events and authorizer ARNs name.
    pub region: String,
    /// The keys of `private` routes.
    pub api_keys: ApiKeys,
}

impl HttpRoutes {
    /// The routes of `service`; `integration_timeout` overrides API Gateway's (for tests).
    pub fn from_service(
        service: &Service,
        integration_timeout: Option<Duration>,
        auth: AuthOptions,
    ) -> Result<Self, Error> {
        let http_api_cors = match service.provider.http_api.as_ref().and_then(|h| h.cors.as_ref()) {
            Some(value) => Cors::from_http_api(value, "provider.httpApi.cors").map_err(|e| service.locate(e))?,
            None => None,
        };
        let http_api_timeouts = service
            .functions
            .values()
            .map(|f| {
                let serverless = Duration::from_secs_f64(f.timeout_seconds) + limits::HTTP_API_TIMEOUT_MARGIN;
                (f.key.clone(), integration_timeout.unwrap_or(serverless.min(limits::HTTP_API_MAX_INTEGRATION_TIMEOUT)))
            })
            .collect();
        let rest_timeout = integration_timeout.unwrap_or(limits::REST_INTEGRATION_TIMEOUT);
        let mut guard = Guard::new(service, auth, rest_timeout);
        let table = RouteTable::from_service(service, &mut guard).map_err(|e| service.locate(e))?;
        let api_keys = ApiKeys::from_service(service, table.any_private());
        Ok(Self {
            table,
            stage: service.stage.clone(),
            prefix_stage: !service.offline.no_prepend_stage_in_url,
            http_api_cors,
            binary_media_types: service
                .provider
                .api_gateway
                .as_ref()
                .map(|a| a.binary_media_types.clone())
                .unwrap_or_default(),
            rest_timeout,
            http_api_timeouts,
            function_urls: FunctionUrls::from_service(service),
            region: service.region.clone(),
            api_keys,
        })
    }

    /// URL path prefix of REST routes: `/dev`, or nothing with noPrependStageInUrl.
    pub fn rest_prefix(&self) -> String {
        if self.prefix_stage {
            format!("/{}", self.stage)
        } else {
            String::new()
        }
    }

    /// The path inside the REST API (without `/{stage}`), when the request is addressed to it.
    pub fn rest_path(&self, path: &str) -> Option<String> {
        if !self.prefix_stage {
            return Some(path.to_string());
        }
        super::strip_stage(path, &self.stage).map(|inside| if inside.is_empty() { "/" } else { inside }.to_string())
    }

    pub fn http_api_timeout(&self, function: &str) -> Duration {
        self.http_api_timeouts.get(function).copied().unwrap_or(limits::HTTP_API_MAX_INTEGRATION_TIMEOUT)
    }
}
