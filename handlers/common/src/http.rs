//! JSON responses for the HTTP functions, with the CORS headers a browser at one of `CORS_ORIGINS` needs (the
//! REST API's lambda-proxy integration leaves them to the function; API Gateway answers the preflight itself).

use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

/// The allowed origins (`CORS_ORIGINS`, comma-separated, `*` for any) and request headers (`CORS_HEADERS`).
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
    headers: String,
}

impl Cors {
    pub fn from_env() -> Self {
        let origins = std::env::var("CORS_ORIGINS").unwrap_or_else(|_| "*".into());
        let headers = std::env::var("CORS_HEADERS").unwrap_or_else(|_| "Content-Type".into());
        Self::new(&origins, &headers)
    }

    pub fn new(origins: &str, headers: &str) -> Self {
        let origins = origins.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
        Self { origins, headers: headers.to_string() }
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin`: the origin itself when allowed, `*` when
    /// any is, and none otherwise (the browser then refuses the response).
    pub fn allowed_origin(&self, origin: Option<&str>) -> Option<String> {
        if self.origins.iter().any(|o| o == "*") {
            return Some("*".into());
        }
        let origin = origin?;
        self.origins.iter().any(|o| o == origin).then(|| origin.to_string())
    }

    /// A JSON response to `request`.
    pub fn json(&self, request: &Request, status: StatusCode, body: &impl Serialize) -> Response<Body> {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let mut response = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::VARY, "Origin");
        if let Some(allowed) = self.allowed_origin(origin) {
            response = response
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed)
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, &self.headers);
        }
        let body = serde_json::to_string(body).expect("response bodies serialise");
        response.body(Body::Text(body)).expect("the response is well-formed")
    }

    /// `{"message": …}` with `status`.
    pub fn message(&self, request: &Request, status: StatusCode, message: &str) -> Response<Body> {
        self.json(request, status, &serde_json::json!({ "message": message }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_are_allowed() {
        let cors = Cors::new("http://localhost:4200, https://app.example.com", "Content-Type");
        assert_eq!(cors.allowed_origin(Some("http://localhost:4200")).as_deref(), Some("http://localhost:4200"));
        assert_eq!(cors.allowed_origin(Some("http://evil.example")), None);
        assert_eq!(cors.allowed_origin(None), None);
        assert_eq!(Cors::new("*", "").allowed_origin(None).as_deref(), Some("*"));
    }
}
