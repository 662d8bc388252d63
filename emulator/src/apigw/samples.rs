//! Sample events of a function's HTTP routes, for the web console's "Sample event": the request a browser would
//! send to the function's first route (path parameters filled with `sample`), turned into the event by the same
//! builders the gateway uses, so it has every field the function's deserializer expects.

use super::events::{self, ApiContext, IncomingRequest};
use super::http_routes::HttpRoutes;
use super::payload_v2;
use crate::aws::endpoints::{HTTP_API, REST_API};
use serde_json::Value;

/// The event of a request to the first REST or HTTP API route of `function`; `host` goes in the `Host` header.
pub fn http_event(routes: &HttpRoutes, function: &str, host: &str) -> Option<Value> {
    if let Some(route) = routes.table.rest_routes().iter().find(|r| r.function == function) {
        let (method, path) = (concrete_method(&route.method), concrete_path(&route.resource));
        let matched = routes.table.match_rest(&method, &path)?;
        let request = sample_request(&method, &format!("{}{path}", routes.rest_prefix()), host);
        let api = ApiContext {
            api_id: REST_API.local_id,
            stage: &routes.stage,
            binary_media_types: &routes.binary_media_types,
        };
        return Some(events::rest_event(&request, &matched, &path, &api));
    }
    let route = routes.table.http_api_routes().iter().find(|r| r.function == function)?;
    let path = if route.resource == "*" { "/".to_string() } else { concrete_path(&route.resource) };
    let method = concrete_method(&route.method);
    let matched = routes.table.match_http_api(&method, &path)?;
    let api = ApiContext { api_id: HTTP_API.local_id, stage: "$default", binary_media_types: &[] };
    Some(payload_v2::http_api_event(&sample_request(&method, &path, host), &matched, &api).to_value())
}

fn concrete_method(method: &str) -> String {
    if method == "ANY" {
        "GET".to_string()
    } else {
        method.to_string()
    }
}

/// `/tasks/{id}` → `/tasks/sample`; `/files/{proxy+}` → `/files/sample`.
fn concrete_path(resource: &str) -> String {
    resource
        .split('/')
        .map(|segment| if segment.starts_with('{') && segment.ends_with('}') { "sample" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn sample_request(method: &str, path: &str, host: &str) -> IncomingRequest {
    let mut headers =
        vec![("host".to_string(), host.to_string()), ("user-agent".to_string(), "ftb-offline console".to_string())];
    let body = if matches!(method, "POST" | "PUT" | "PATCH") {
        headers.push(("content-type".to_string(), "application/json".to_string()));
        bytes::Bytes::from_static(b"{}")
    } else {
        bytes::Bytes::new()
    };
    IncomingRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: String::new(),
        headers,
        body,
        source_ip: "127.0.0.1".to_string(),
        protocol: "HTTP/1.1".to_string(),
        request_id: uuid::Uuid::new_v4().to_string(),
        time: chrono::Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_parameters_are_filled_in() {
        assert_eq!(super::concrete_path("/tasks/{id}/{proxy+}"), "/tasks/sample/sample");
        assert_eq!(super::concrete_path("/tasks"), "/tasks");
    }
}
