//! Routes of the REST API (`http` events) and the HTTP API (`httpApi` events), and matching a request to the
//! route API Gateway would pick: literal segments beat `{param}`, which beats greedy `{proxy+}`; a method route
//! beats `ANY`; the HTTP API's `$default` (`*`) route comes last.

use super::api::Api;
use super::auth::{Guard, RouteGuard};
use crate::config::{ConfigError, Cors, Event, Service};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{proxy+}`: one or more segments.
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub api: Api,
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// As written: `/tasks/{id}` (REST `resource`), or `*` for the HTTP API's `$default`.
    pub resource: String,
    /// HTTP API route key: `GET /tasks/{id}` or `$default`.
    pub route_key: String,
    pub function: String,
    pub cors: Option<Cors>,
    /// The authorizer requests must pass first.
    pub guard: Option<RouteGuard>,
    /// `private: true`: an API key is required.
    pub api_key_required: bool,
    segments: Option<Vec<Segment>>,
}

/// A request matched to a route.
#[derive(Debug, Clone)]
pub struct Matched<'r> {
    pub route: &'r Route,
    pub path_parameters: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    rest: Vec<Route>,
    http_api: Vec<Route>,
}

impl RouteTable {
    /// The routes of `service`, each with the guard `guard` builds for its authorizer.
    pub fn from_service(service: &Service, guard: &mut Guard) -> Result<Self, ConfigError> {
        let mut table = RouteTable::default();
        for function in service.functions.values() {
            for (index, event) in function.events.iter().enumerate() {
                let path = format!("functions.{}.events.{index}", function.key);
                match event {
                    Event::Http(http) => {
                        let mut route =
                            Route::new(Api::Rest, &http.method, &http.path, &function.key, http.cors.clone());
                        if let Some(authorizer) = &http.authorizer {
                            let name = format!("{} {}", route.method, route.resource);
                            route.guard = guard.rest(authorizer, &name, &format!("{path}.http.authorizer"))?;
                        }
                        route.api_key_required = http.private && !guard.no_auth();
                        table.rest.push(route);
                    }
                    Event::HttpApi(http) => {
                        let mut route = Route::new(Api::HttpApi, &http.method, &http.path, &function.key, None);
                        if let Some(authorizer) = &http.authorizer {
                            let name = format!("{} (HTTP API)", route.route_key);
                            route.guard = guard.http_api(authorizer, &name, &format!("{path}.httpApi.authorizer"))?;
                        }
                        table.http_api.push(route);
                    }
                    _ => {}
                }
            }
        }
        Ok(table)
    }

    /// Whether a route needs an API key.
    pub fn any_private(&self) -> bool {
        self.rest.iter().any(|route| route.api_key_required)
    }

    pub fn has_rest(&self) -> bool {
        !self.rest.is_empty()
    }

    pub fn has_http_api(&self) -> bool {
        !self.http_api.is_empty()
    }

    pub fn rest_routes(&self) -> &[Route] {
        &self.rest
    }

    pub fn http_api_routes(&self) -> &[Route] {
        &self.http_api
    }

    /// The most specific REST route for `method path` (path without the stage).
    pub fn match_rest(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        best_match(&self.rest, method, path)
    }

    pub fn match_http_api(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        best_match(&self.http_api, method, path)
    }

    /// REST routes whose path matches, whatever their method (for CORS preflight).
    pub fn rest_routes_for_path(&self, path: &str) -> Vec<&Route> {
        self.rest.iter().filter(|r| r.match_path(path).is_some()).collect()
    }
}

impl Route {
    fn new(api: Api, method: &str, path: &str, function: &str, cors: Option<Cors>) -> Self {
        let method = if method == "*" { "ANY".to_string() } else { method.to_string() };
        let segments = (path != "*").then(|| parse_segments(path));
        let route_key = match api {
            Api::HttpApi | Api::FunctionUrl if path == "*" => "$default".to_string(),
            Api::HttpApi | Api::FunctionUrl => format!("{} {path}", if method == "ANY" { "ANY" } else { &method }),
            Api::Rest => format!("{method} {path}"),
        };
        Self {
            api,
            method,
            resource: path.to_string(),
            route_key,
            function: function.to_string(),
            cors,
            guard: None,
            api_key_required: false,
            segments,
        }
    }

    /// Path parameters when `path` fits this route's pattern.
    fn match_path(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let Some(pattern) = &self.segments else { return Some(BTreeMap::new()) };
        let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        let mut parameters = BTreeMap::new();
        for (i, segment) in pattern.iter().enumerate() {
            match segment {
                Segment::Literal(text) => (parts.get(i)? == text).then_some(())?,
                Segment::Param(name) => {
                    parameters.insert(name.clone(), decode(parts.get(i)?));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                    parameters.insert(name.clone(), rest.iter().map(|p| decode(p)).collect::<Vec<_>>().join("/"));
                    return Some(parameters);
                }
            }
        }
        (parts.len() == pattern.len()).then_some(parameters)
    }

    /// Orders routes by specificity: per segment literal > param > greedy, longer patterns first among equals,
    /// then a named method over ANY. `$default` is the least specific.
    fn specificity(&self) -> (Vec<u8>, usize, bool) {
        let ranks = match &self.segments {
            None => Vec::new(),
            Some(segments) => segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 3,
                    Segment::Param(_) => 2,
                    Segment::Greedy(_) => 1,
                })
                .collect(),
        };
        let length = ranks.len();
        (ranks, length, self.method != "ANY")
    }
}

fn best_match<'r>(routes: &'r [Route], method: &str, path: &str) -> Option<Matched<'r>> {
    routes
        .iter()
        .filter(|route| route.method == "ANY" || route.method == method)
        .filter_map(|route| route.match_path(path).map(|path_parameters| Matched { route, path_parameters }))
        .max_by(|a, b| a.route.specificity().cmp(&b.route.specificity()))
}

fn parse_segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if name.ends_with('+') => Segment::Greedy(name.trim_end_matches('+').to_string()),
            Some(name) => Segment::Param(name.to_string()),
            None => Segment::Literal(segment.to_string()),
        })
        .collect()
}

fn decode(part: &str) -> String {
    percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str)]) -> Vec<Route> {
        routes.iter().enumerate().map(|(i, (m, p))| Route::new(Api::HttpApi, m, p, &format!("f{i}"), None)).collect()
    }

    fn pick(routes: &[Route], method: &str, path: &str) -> Option<(String, BTreeMap<String, String>)> {
        best_match(routes, method, path).map(|m| (m.route.route_key.clone(), m.path_parameters))
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = table(&[
            ("*", "*"),
            ("ANY", "/{proxy+}"),
            ("GET", "/tasks/{id}"),
            ("GET", "/tasks/new"),
            ("ANY", "/tasks/{id}"),
        ]);
        assert_eq!(pick(&routes, "GET", "/tasks/new").unwrap().0, "GET /tasks/new");
        let (key, params) = pick(&routes, "GET", "/tasks/42").unwrap();
        assert_eq!((key.as_str(), params["id"].as_str()), ("GET /tasks/{id}", "42"));
        assert_eq!(pick(&routes, "DELETE", "/tasks/42").unwrap().0, "ANY /tasks/{id}");
        let (key, params) = pick(&routes, "POST", "/a/b/c").unwrap();
        assert_eq!((key.as_str(), params["proxy"].as_str()), ("ANY /{proxy+}", "a/b/c"));
        assert_eq!(pick(&routes, "GET", "/").unwrap().0, "$default");
    }

    #[test]
    fn params_are_single_segments_and_decoded() {
        let routes = table(&[("GET", "/users/{id}")]);
        assert_eq!(pick(&routes, "GET", "/users/a%20b").unwrap().1["id"], "a b");
        assert!(pick(&routes, "GET", "/users/a/b").is_none());
        assert!(pick(&routes, "GET", "/users").is_none());
        assert!(pick(&routes, "POST", "/users/1").is_none());
    }
}
