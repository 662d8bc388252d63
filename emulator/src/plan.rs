//! One checked plan from `serverless.yml`: every function as a spec ready to run, the HTTP and WebSocket route
//! tables with CORS, the queues and event source mappings, and the schedule rules, all resolved and checked
//! before anything runs.
//! Start-up applies a plan to empty state and a live edit applies the next plan over the running one, both
//! through [`crate::live::Live::apply`]; nothing is assembled twice.

use crate::apigw::http_routes::HttpRoutes;
use crate::apigw::websocket::routes::WsRoutes;
use crate::aws::endpoints::LocalEndpoints;
use crate::config::intrinsics::Intrinsics;
use crate::config::Service;
use crate::error::Error;
use crate::functions::{self, FunctionCode};
use crate::lambda::spec::FunctionSpec;
use crate::options::EmulatorOptions;
use crate::sqs;
use crate::sqs::Sqs;

/// What a service runs, checked.
pub struct Plan {
    pub service: Service,
    pub functions: Vec<FunctionSpec>,
    pub http: HttpRoutes,
    pub websocket: WsRoutes,
    pub schedules: Vec<crate::schedule::Rule>,
}

impl Plan {
    /// Resolves and checks everything `service` asks for. `code` says what each function's processes start from.
    /// The queues and mappings are tried on scratch queues, so that a plan naming a queue that does not exist,
    /// or giving one an invalid attribute, is refused before the running queues change.
    pub fn check(
        service: Service,
        endpoints: &LocalEndpoints,
        options: &EmulatorOptions,
        code: &FunctionCode,
    ) -> Result<Self, Error> {
        let functions = functions::specs(&service, endpoints, options, code)?;
        let http = HttpRoutes::from_service(&service, options.integration_timeout, options.auth)?;
        let websocket = WsRoutes::from_service(&service, options.auth)?;
        check_queues_and_mappings(&service, endpoints, &functions)?;
        let schedules = crate::schedule::rules(&service).map_err(|e| service.locate(e))?;
        Ok(Self { service, functions, http, websocket, schedules })
    }
}

/// One HTTP or WebSocket route: its API, method (or route key), URL, function and what guards it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RouteRow {
    pub api: RouteApi,
    pub method: String,
    pub url: String,
    pub function: String,
    /// `authorizer auth, API key`; empty when the route is open.
    pub guard: String,
}

/// The API a [`RouteRow`] belongs to, named as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RouteApi {
    #[serde(rename = "REST API")]
    Rest,
    #[serde(rename = "HTTP API")]
    HttpApi,
    WebSocket,
}

/// Every HTTP and WebSocket route with its URL and function. `websocket` is the WebSocket API's (route key,
/// function) pairs.
pub fn route_table(http: &HttpRoutes, websocket: &[(String, String)], endpoints: &LocalEndpoints) -> Vec<RouteRow> {
    let base = endpoints.http_url();
    let mut rows = Vec::new();
    for route in http.table.rest_routes() {
        rows.push(RouteRow {
            api: RouteApi::Rest,
            method: route.method.clone(),
            url: format!("{base}{}{}", http.rest_prefix(), route.resource),
            function: route.function.clone(),
            guard: guard_note(route),
        });
    }
    for route in http.table.http_api_routes() {
        let path = if route.resource == "*" { "/{any}".to_string() } else { route.resource.clone() };
        rows.push(RouteRow {
            api: RouteApi::HttpApi,
            method: route.method.clone(),
            url: format!("{base}{path}"),
            function: route.function.clone(),
            guard: guard_note(route),
        });
    }
    for (route, function) in websocket {
        rows.push(RouteRow {
            api: RouteApi::WebSocket,
            method: route.clone(),
            url: endpoints.websocket_url(),
            function: function.clone(),
            guard: String::new(),
        });
    }
    rows
}

/// Every HTTP and WebSocket route with its URL and function, one line each, as logged at start and after a live
/// edit that changes them.
pub fn route_lines(http: &HttpRoutes, websocket: &WsRoutes, endpoints: &LocalEndpoints) -> Vec<String> {
    let guarded = |row: &RouteRow| if row.guard.is_empty() { String::new() } else { format!(" [{}]", row.guard) };
    route_table(http, &websocket.keys(), endpoints)
        .iter()
        .map(|row| match row.api {
            RouteApi::Rest => format!("{:<7} {} → {}{}", row.method, row.url, row.function, guarded(row)),
            RouteApi::HttpApi => format!("{:<7} {} → {} (HTTP API){}", row.method, row.url, row.function, guarded(row)),
            RouteApi::WebSocket => format!("{:<12} {} → {}", row.method, row.url, row.function),
        })
        .collect()
}

/// `authorizer auth, API key` for a guarded route; empty for an open one.
fn guard_note(route: &crate::apigw::routes::Route) -> String {
    let mut notes = Vec::new();
    if let Some(guard) = &route.guard {
        notes.push(guard.describe());
    }
    if route.api_key_required {
        notes.push("API key".to_string());
    }
    notes.join(", ")
}

/// Resolves the queues, mappings, topics, subscriptions and buckets of `service` against scratch services.
fn check_queues_and_mappings(
    service: &Service,
    endpoints: &LocalEndpoints,
    functions: &[FunctionSpec],
) -> Result<(), Error> {
    let scratch = Sqs::scratch(&service.region, &endpoints.lambda_url());
    let intrinsics = Intrinsics::new(service, endpoints);
    sqs::resources::define_queues(service, &intrinsics, &scratch).map_err(|e| service.locate(e))?;
    let concurrency = |function: &str| functions.iter().find(|s| s.key == function).map_or(1, |s| s.max_concurrency);
    sqs::resources::mappings(service, &intrinsics, &scratch, concurrency).map_err(|e| service.locate(e))?;
    crate::streams::mappings(service, &intrinsics).map_err(|e| service.locate(e))?;
    let topics = crate::sns::Sns::new(&service.region, crate::sns::delivery::Deliveries::nowhere(&service.region));
    crate::sns::resources::define(service, &intrinsics, &topics).map_err(|e| service.locate(e))?;
    crate::s3::resources::plan(service, &intrinsics).map_err(|e| service.locate(e))?;
    Ok(())
}
