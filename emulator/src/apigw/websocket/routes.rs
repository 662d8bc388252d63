//! The WebSocket API's part of the plan: route keys and the functions behind them, and how a message selects its
//! route (`$request.body.<path>`, the route selection expression).

use crate::apigw::auth::{AuthOptions, Guard, RouteGuard};
use crate::aws::apigw as limits;
use crate::config::{Event, Service, DEFAULT_ROUTE_SELECTION_EXPRESSION};
use crate::error::Error;
use serde_json::Value;
use std::collections::HashMap;

/// A route and the function behind it.
#[derive(Debug, Clone)]
pub struct WsRoute {
    pub function: String,
    /// With `routeResponseSelectionExpression`, the function's answer is sent back to the client.
    pub route_response: bool,
    /// `$connect` only: the authorizer a connection must pass.
    pub guard: Option<RouteGuard>,
}

/// The route table from `serverless.yml`.
#[derive(Default)]
pub struct WsRoutes {
    by_key: HashMap<String, WsRoute>,
    /// `$request.body.action` → `["action"]`.
    selection_path: Vec<String>,
    /// The region the `$connect` authorizer's method ARN names.
    pub region: String,
}

impl WsRoutes {
    pub fn from_service(service: &Service, auth: AuthOptions) -> Result<Self, Error> {
        let mut by_key = HashMap::new();
        let mut guard = Guard::new(service, auth, limits::REST_INTEGRATION_TIMEOUT);
        for function in service.functions.values() {
            for (index, event) in function.events.iter().enumerate() {
                if let Event::Websocket(ws) = event {
                    let path = format!("functions.{}.events.{index}.websocket.authorizer", function.key);
                    let guard = match &ws.authorizer {
                        Some(authorizer) => guard.websocket(authorizer, &path).map_err(|e| service.locate(e))?,
                        None => None,
                    };
                    let route = WsRoute {
                        function: function.key.clone(),
                        route_response: ws.route_response_selection_expression.is_some(),
                        guard,
                    };
                    by_key.insert(ws.route.clone(), route);
                }
            }
        }
        let expression = service
            .provider
            .websockets_api_route_selection_expression
            .as_deref()
            .unwrap_or(DEFAULT_ROUTE_SELECTION_EXPRESSION);
        let selection_path = match expression.strip_prefix("$request.body.") {
            Some(path) => path.split('.').map(String::from).collect(),
            None => {
                tracing::warn!(target: "websocket", "route selection expression `{expression}` is not supported; every message goes to $default");
                Vec::new()
            }
        };
        Ok(Self { by_key, selection_path, region: service.region.clone() })
    }

    pub fn get(&self, key: &str) -> Option<WsRoute> {
        self.by_key.get(key).cloned()
    }

    /// Route key → function, sorted by route key.
    pub fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<_> = self.by_key.iter().map(|(key, route)| (key.clone(), route.function.clone())).collect();
        keys.sort();
        keys
    }

    /// The route key a message selects, and its route: the selection expression's value when a route has that
    /// key, else `$default`.
    pub fn select(&self, text: &str) -> Option<(String, WsRoute)> {
        let selected = serde_json::from_str::<Value>(text).ok().and_then(|body| {
            let value = self.selection_path.iter().try_fold(&body, |v, key| v.get(key))?;
            value.as_str().map(String::from)
        });
        selected
            .and_then(|key| self.get(&key).map(|route| (key, route)))
            .or_else(|| self.get("$default").map(|route| ("$default".to_string(), route)))
    }
}
