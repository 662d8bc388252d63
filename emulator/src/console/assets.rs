//! The console's page, script and style, compiled into the binary: nothing to build, and nothing fetched from
//! anywhere else (no CDN). The page carries this start's token, which its script sends with every change.

use crate::server::{response, Body};
use hyper::{Response, StatusCode};

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/console.js");
const STYLE: &str = include_str!("assets/console.css");

/// Where the page's token goes.
const TOKEN_MARK: &str = "{{token}}";

pub fn is_asset(file: &str) -> bool {
    matches!(file, "console.js" | "console.css")
}

pub fn page(token: &str) -> Response<Body> {
    with_policy(response(StatusCode::OK, "text/html; charset=utf-8", PAGE.replace(TOKEN_MARK, token)))
}

pub fn asset(file: &str) -> Response<Body> {
    let (kind, text) = match file {
        "console.js" => ("text/javascript; charset=utf-8", SCRIPT),
        _ => ("text/css; charset=utf-8", STYLE),
    };
    with_policy(response(StatusCode::OK, kind, text))
}

/// The page loads only from itself, and no other site may frame it.
fn with_policy(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    let policy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
    headers.insert("content-security-policy", hyper::header::HeaderValue::from_static(policy));
    headers.insert("x-frame-options", hyper::header::HeaderValue::from_static("DENY"));
    headers.insert("cache-control", hyper::header::HeaderValue::from_static("no-store"));
    response
}
