//! CORS as API Gateway applies it from `serverless.yml`: preflight `OPTIONS` answered by the gateway without
//! invoking a function, and (HTTP API) the allow headers added to actual responses. A disallowed origin gets no
//! `Access-Control-Allow-Origin`.

use super::api::Api;
use super::response::Reply;
use crate::config::Cors;
use bytes::Bytes;

/// The origin to allow for `origin`, if the configuration allows it.
pub fn allowed_origin(cors: &Cors, origin: Option<&str>) -> Option<String> {
    if cors.origins.iter().any(|o| o == "*") {
        return Some(if cors.allow_credentials { origin.unwrap_or("*").to_string() } else { "*".to_string() });
    }
    let origin = origin?;
    cors.origins.iter().any(|allowed| origin_matches(allowed, origin)).then(|| origin.to_string())
}

/// `https://*.example.com` style wildcards, as Serverless allows in `origins`.
fn origin_matches(allowed: &str, origin: &str) -> bool {
    match allowed.split_once('*') {
        Some((prefix, suffix)) => {
            origin.starts_with(prefix) && origin.ends_with(suffix) && origin.len() >= prefix.len() + suffix.len()
        }
        None => allowed.eq_ignore_ascii_case(origin),
    }
}

/// The answer to a preflight request. REST's mock integration answers 200 with the configured headers; HTTP
/// APIs answer 204 and send the CORS headers only for an allowed origin.
pub fn preflight(cors: &Cors, origin: Option<&str>, requested_headers: Option<&str>, api: Api) -> Reply {
    let allowed = allowed_origin(cors, origin);
    let mut headers = Vec::new();
    if allowed.is_some() || api == Api::Rest {
        let allow_headers = if cors.headers.iter().any(|h| h == "*") {
            requested_headers.unwrap_or("*").to_string()
        } else {
            cors.headers.join(",")
        };
        headers.push(("access-control-allow-headers".to_string(), allow_headers));
        headers.push(("access-control-allow-methods".to_string(), cors.methods.join(",")));
        if cors.allow_credentials {
            headers.push(("access-control-allow-credentials".to_string(), "true".to_string()));
        }
        if let Some(max_age) = cors.max_age {
            headers.push(("access-control-max-age".to_string(), max_age.to_string()));
        }
        if let Some(cache_control) = &cors.cache_control {
            headers.push(("cache-control".to_string(), cache_control.clone()));
        }
    }
    if let Some(origin) = allowed {
        headers.push(("access-control-allow-origin".to_string(), origin));
    }
    let status = match api {
        Api::Rest | Api::FunctionUrl => 200,
        Api::HttpApi => 204,
    };
    Reply { status, headers, body: Bytes::new(), rest: None }
}

/// HTTP API: adds the allow headers to an actual response for an allowed origin.
pub fn decorate(reply: &mut Reply, cors: &Cors, origin: Option<&str>) {
    let Some(allowed) = allowed_origin(cors, origin) else { return };
    reply.headers.retain(|(k, _)| !k.starts_with("access-control-"));
    reply.headers.push(("access-control-allow-origin".to_string(), allowed));
    if cors.allow_credentials {
        reply.headers.push(("access-control-allow-credentials".to_string(), "true".to_string()));
    }
    if !cors.exposed_headers.is_empty() {
        reply.headers.push(("access-control-expose-headers".to_string(), cors.exposed_headers.join(",")));
    }
}
