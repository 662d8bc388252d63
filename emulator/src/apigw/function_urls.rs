//! Lambda function URLs (`url:` on a function), served on the HTTP port under `/lambda-url/<function>/`, the
//! path cargo lambda watch gives them: which function a path addresses, the URL each function is at, and the
//! CORS Lambda itself answers from `url.cors` (which is not API Gateway's). The event is payload 2.0 as Lambda
//! builds it for a URL ([`super::events::function_url_event`]).
//!
//! On AWS a function URL is a host of its own (`https://<url-id>.lambda-url.<region>.on.aws/`), so the function
//! sees paths from `/`; here the prefix is taken off before the event is built, and the event carries the AWS
//! domain.

use super::response::Reply;
use crate::aws::endpoints::{LocalEndpoints, FUNCTION_URL_PREFIX as PATH_PREFIX};
use crate::config::{Cors, FunctionUrl, Service};
use bytes::Bytes;
use std::collections::BTreeMap;

/// Beyond the function's timeout, for Lambda to report it.
const WAIT_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The functions that have a URL, by key.
#[derive(Debug, Clone, Default)]
pub struct FunctionUrls {
    urls: BTreeMap<String, Served>,
}

/// One function's URL.
#[derive(Debug, Clone)]
pub struct Served {
    pub config: FunctionUrl,
    /// The URL's id, as in `<url-id>.lambda-url.<region>.on.aws`.
    pub url_id: String,
    /// How long the URL waits for the function: its own timeout (a URL has no gateway limit of its own).
    pub timeout: std::time::Duration,
}

/// A request for a function URL: the function, its URL, and the path inside the URL (`/` at least).
pub struct Addressed<'a> {
    pub function: &'a str,
    pub url: &'a Served,
    pub path: String,
}

impl FunctionUrls {
    pub fn from_service(service: &Service) -> Self {
        let urls = service
            .functions
            .values()
            .filter_map(|f| {
                let config = f.url.clone()?;
                let url_id = crate::aws::names::function_url_id(&f.name);
                let timeout = std::time::Duration::from_secs_f64(f.timeout_seconds) + WAIT_MARGIN;
                Some((f.key.clone(), Served { config, url_id, timeout }))
            })
            .collect();
        Self { urls }
    }

    /// Whether `path` is under the function URL prefix (addressing a URL or none).
    pub fn claims(path: &str) -> bool {
        path.starts_with(PATH_PREFIX)
    }

    /// The function URL `path` addresses: `/lambda-url/hello/a/b` → `hello`, `/a/b`.
    pub fn addressed(&self, path: &str) -> Option<Addressed<'_>> {
        let rest = path.strip_prefix(PATH_PREFIX)?;
        let (key, inside) = rest.split_once('/').map_or((rest, ""), |(key, inside)| (key, inside));
        let (function, url) = self.urls.get_key_value(key)?;
        Some(Addressed { function, url, path: format!("/{inside}") })
    }

    /// Each function's URL on this emulator's HTTP port.
    pub fn listed(&self, endpoints: &LocalEndpoints) -> Vec<(String, String)> {
        self.urls.keys().map(|key| (key.clone(), endpoints.function_url(key))).collect()
    }

    /// Functions whose URL wants IAM authorization, which is not checked locally.
    pub fn with_iam(&self) -> impl Iterator<Item = &str> {
        self.urls.iter().filter(|(_, url)| url.config.aws_iam).map(|(key, _)| key.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }
}

/// Lambda's answer to a preflight of a URL with CORS (recorded from AWS): 200, no body, the request's origin
/// echoed when allowed (for `*` too), the configured headers and methods, `Vary: Origin`. The function is not
/// invoked.
pub fn preflight(cors: &Cors, origin: Option<&str>) -> Reply {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.push(("vary".to_string(), "Origin".to_string()));
    if let Some(origin) = allowed_origin(cors, origin) {
        headers.push(("access-control-allow-origin".to_string(), origin));
        headers.push(("access-control-allow-headers".to_string(), cors.headers.join(",")));
        headers.push(("access-control-allow-methods".to_string(), cors.methods.join(",")));
        if cors.allow_credentials {
            headers.push(("access-control-allow-credentials".to_string(), "true".to_string()));
        }
        if let Some(max_age) = cors.max_age.filter(|age| *age > 0) {
            headers.push(("access-control-max-age".to_string(), max_age.to_string()));
        }
    }
    Reply { status: 200, headers, body: Bytes::new(), rest: None }
}

/// Lambda's CORS headers on a function's response, for an allowed origin. They are added beside any the function
/// set itself, as Lambda does (browsers then refuse the doubled header: configure CORS in one place).
pub fn decorate(reply: &mut Reply, cors: &Cors, origin: Option<&str>) {
    let Some(origin) = allowed_origin(cors, origin) else { return };
    reply.headers.push(("vary".to_string(), "Origin".to_string()));
    reply.headers.push(("access-control-allow-origin".to_string(), origin));
    if cors.allow_credentials {
        reply.headers.push(("access-control-allow-credentials".to_string(), "true".to_string()));
    }
    if !cors.exposed_headers.is_empty() {
        reply.headers.push(("access-control-expose-headers".to_string(), cors.exposed_headers.join(",")));
    }
}

/// The origin Lambda allows: the request's own, when `*` or a listed origin matches it.
fn allowed_origin(cors: &Cors, origin: Option<&str>) -> Option<String> {
    let origin = origin?;
    cors.origins
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
        .then(|| origin.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> FunctionUrls {
        let config = FunctionUrl { cors: None, aws_iam: false, streaming: false };
        let served = Served { config, url_id: "id".into(), timeout: std::time::Duration::from_secs(3) };
        FunctionUrls { urls: BTreeMap::from([("hello".to_string(), served)]) }
    }

    #[test]
    fn the_prefix_and_the_function_come_off_the_path() {
        let urls = urls();
        let inside = |path: &str| urls.addressed(path).map(|a| (a.function.to_string(), a.path));
        assert_eq!(inside("/lambda-url/hello/a/b"), Some(("hello".into(), "/a/b".into())));
        assert_eq!(inside("/lambda-url/hello/"), Some(("hello".into(), "/".into())));
        assert_eq!(inside("/lambda-url/hello"), Some(("hello".into(), "/".into())));
        assert_eq!(inside("/lambda-url/other/"), None);
        assert_eq!(inside("/hello"), None);
    }
}
