//! The guard in front of the local AWS APIs: the Lambda and SQS port (and every AWS API served on it) and the
//! `@connections` management API. AWS's own endpoints refuse what a web page could send because they require
//! SigV4 signatures; ftb-offline checks no signature, so without this guard any page the developer visits could
//! invoke their functions or purge their queues with a "simple" cross-site request (one a browser sends without
//! a preflight), or through DNS rebinding. SDKs, the AWS CLI and handlers send no `Origin` and name the loopback
//! host they were given, so they never meet it.
//!
//! This module owns:
//! - the allow-list: loopback names and addresses (`127.0.0.1`, `[::1]`, `localhost`, `*.localhost`), the listen
//!   host (`--host`), and the `--allow-host`s and `--allow-origin`s (also `custom.ftb-offline`);
//! - the check of a request's `Host`, `Origin` and `Sec-Fetch-Site` ([`Guard::check`]);
//! - one warning line in the log per refused origin or host.
//!
//! The error a refused request gets is its protocol's (`AccessDeniedException` / `AccessDenied`, 403), shaped
//! where the request is routed: `endpoint.rs` for the Lambda port, the `@connections` API for its own.

use hyper::header::{HeaderMap, HOST, ORIGIN};
use hyper::Request;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

/// What the user lets through besides loopback: `--allow-origin` and `--allow-host` (repeatable), or
/// `allowOrigins` and `allowHosts` under `custom.ftb-offline`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GuardSettings {
    /// Origins whose pages may call the AWS APIs, as browsers send them: `http://localhost:4200`.
    pub allow_origins: Vec<String>,
    /// Names the AWS APIs answer to besides loopback ones and the listen host: `host.docker.internal`.
    pub allow_hosts: Vec<String>,
}

/// Distinct refused origins and hosts that get their warning line. Beyond it, refusals are not logged, so a page
/// that makes up origins fills neither the memory nor the log.
const MAX_WARNED: usize = 1000;

/// Refused values are quoted in errors and the log up to this many characters.
const MAX_SHOWN_CHARS: usize = 200;

/// The allow-list, and what was already warned about.
pub struct Guard {
    hosts: HashSet<String>,
    origins: HashSet<String>,
    warned: Mutex<HashSet<String>>,
}

/// Why a request was refused.
#[derive(Debug)]
pub struct Refusal {
    /// What was refused, warned about once: `Origin http://evil.example`.
    pub subject: String,
    /// Why, and which flag allows it.
    pub reason: String,
}

impl Guard {
    /// The allow-list of an emulator listening on `listen_host`, with what each of `settings` adds.
    pub fn new(listen_host: &str, settings: &[&GuardSettings]) -> Self {
        let mut hosts: HashSet<String> = host_name(listen_host).into_iter().collect();
        let mut origins = HashSet::new();
        for settings in settings {
            hosts.extend(settings.allow_hosts.iter().filter_map(|host| allowed_host(host).ok()));
            origins.extend(settings.allow_origins.iter().filter_map(|origin| allowed_origin(origin).ok()));
        }
        Self { hosts, origins, warned: Mutex::default() }
    }

    /// Lets `request` through, or says why not (and warns, once per origin or host).
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), Refusal> {
        let verdict = self.check_host(request).and_then(|()| self.check_origin(request.headers()));
        if let Err(refusal) = &verdict {
            self.warn_once(refusal);
        }
        verdict
    }

    /// Lets `request` through when its `Host` is loopback or allowed, whatever its origin: for an API whose own
    /// rules decide which pages may call it (S3, with signatures and bucket CORS).
    pub fn check_host_only<B>(&self, request: &Request<B>) -> Result<(), Refusal> {
        let verdict = self.check_host(request);
        if let Err(refusal) = &verdict {
            self.warn_once(refusal);
        }
        verdict
    }

    /// Every `Host` (and the authority of an absolute-form request line) must be loopback or allowed: a page
    /// reached through DNS rebinding sends its own name. A request without any (HTTP/1.0) is not a browser's.
    fn check_host<B>(&self, request: &Request<B>) -> Result<(), Refusal> {
        let headers =
            request.headers().get_all(HOST).into_iter().map(|value| String::from_utf8_lossy(value.as_bytes()));
        let authority = request.uri().authority().map(|authority| authority.as_str().into());
        for host in headers.chain(authority) {
            match host_name(&host) {
                Some(name) if is_loopback(&name) || self.hosts.contains(&name) => {}
                Some(name) => return Err(Refusal::host(&name)),
                None => return Err(Refusal::malformed_host(&host)),
            }
        }
        Ok(())
    }

    /// An `Origin` means a web page sent the request: only allowed origins pass. Without one, a browser still
    /// marks a page's request to another site in `Sec-Fetch-Site` (a `no-cors` GET, an `<img>`).
    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let origins: Vec<String> = headers
            .get_all(ORIGIN)
            .into_iter()
            .map(|value| normalise_origin(&String::from_utf8_lossy(value.as_bytes())))
            .collect();
        if let Some(origin) = origins.iter().find(|origin| !self.origins.contains(*origin)) {
            return Err(Refusal::origin(origin));
        }
        if origins.is_empty() && sent_by_another_site(headers) {
            return Err(Refusal::another_site());
        }
        Ok(())
    }

    fn warn_once(&self, refusal: &Refusal) {
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.len() < MAX_WARNED && warned.insert(refusal.subject.clone()) {
            tracing::warn!(
                target: "guard",
                "refused a request to the AWS APIs: {} (logged once for {})",
                refusal.reason,
                refusal.subject
            );
        }
    }
}

impl Refusal {
    /// The message of the AWS error the request gets.
    pub fn message(&self) -> String {
        format!("ftb-offline refused this request: {}", self.reason)
    }

    fn host(name: &str) -> Self {
        let name = shown(name);
        Self {
            subject: format!("Host {name}"),
            reason: format!(
                "its Host `{name}` is neither a loopback name or address (127.0.0.1, [::1], localhost, *.localhost) nor the --host value, as when a web page reaches this port through DNS rebinding. If you reach the emulator by this name on purpose, start it with --allow-host {name} (or list it in custom.ftb-offline.allowHosts)"
            ),
        }
    }

    fn malformed_host(value: &str) -> Self {
        let value = shown(value);
        Self {
            subject: format!("Host {value}"),
            reason: format!("its Host `{value}` is not a host name or address with an optional port; SDKs, the AWS CLI and handlers send the one of the endpoint they were given"),
        }
    }

    fn origin(origin: &str) -> Self {
        let origin = shown(origin);
        Self {
            subject: format!("Origin {origin}"),
            reason: format!(
                "it carries Origin `{origin}`, so a web page sent it, and SDKs, the AWS CLI and handlers send none. If you trust that page, start the emulator with --allow-origin {origin} (or list it in custom.ftb-offline.allowOrigins)"
            ),
        }
    }

    fn another_site() -> Self {
        Self {
            subject: "pages on other sites that send no Origin".to_string(),
            reason: "the browser marks it as sent by a page on another site (Sec-Fetch-Site), and SDKs, the AWS CLI and handlers send no such header. A page you trust can call with fetch() in cors mode from an origin you allow with --allow-origin (or custom.ftb-offline.allowOrigins)".to_string(),
        }
    }
}

/// `text` as an allowed origin: `scheme://host[:port]` (as browsers send `Origin`) or `null`, lowercased.
pub fn allowed_origin(text: &str) -> Result<String, String> {
    let origin = normalise_origin(text);
    let well_formed = origin == "null"
        || origin.split_once("://").is_some_and(|(scheme, authority)| {
            !scheme.is_empty()
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !authority.contains(['/', '?', '#', '@'])
                && host_name(authority).is_some()
        });
    if well_formed {
        Ok(origin)
    } else {
        Err(format!("expected an origin as browsers send it, such as http://localhost:4200 (scheme, host and port, no path), found `{text}`"))
    }
}

/// `text` as an allowed host name or address, without its port if it has one: `host.docker.internal`.
pub fn allowed_host(text: &str) -> Result<String, String> {
    host_name(text).ok_or_else(|| {
        format!("expected a host name or address, such as host.docker.internal or 192.168.1.20, found `{text}`")
    })
}

/// An origin as compared: lowercased, without the trailing `/` some people write.
pub(crate) fn normalise_origin(text: &str) -> String {
    text.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The name or address in a `Host` value, as compared: lowercased, without the port, the brackets of an IPv6
/// address, or the trailing dot of a fully qualified name. `None` if it is not one.
fn host_name(value: &str) -> Option<String> {
    let value = value.trim().to_ascii_lowercase();
    // A bare IPv6 address, as `--host ::1` is written.
    if let Ok(address) = value.parse::<Ipv6Addr>() {
        return Some(address.to_string());
    }
    let (name, port) = match value.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed.split_once(']')?;
            let address = inside.parse::<Ipv6Addr>().ok()?;
            let port = if after.is_empty() { None } else { Some(after.strip_prefix(':')?) };
            return port.is_none_or(is_port).then(|| address.to_string());
        }
        None => match value.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (value.as_str(), None),
        },
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    (valid_name && port.is_none_or(is_port)).then(|| name.to_string())
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.chars().all(|c| c.is_ascii_digit())
}

/// Loopback names and addresses: `localhost` and its subdomains, which browsers resolve to loopback themselves
/// (RFC 6761 §6.3), 127.0.0.0/8 and ::1.
fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|address| address.to_canonical().is_loopback())
}

/// Whether a browser marks the request as made by a page of another site (Fetch Metadata: `Sec-Fetch-Site` is
/// `cross-site` or `same-site`; `same-origin` and `none`, a typed address, are not).
pub(crate) fn sent_by_another_site(headers: &HeaderMap) -> bool {
    headers.get_all("sec-fetch-site").into_iter().any(|value| !matches!(value.as_bytes(), b"same-origin" | b"none"))
}

/// `text` as quoted in an error or the log: printable, and at most [`MAX_SHOWN_CHARS`] characters.
pub(crate) fn shown(text: &str) -> String {
    let printable: String = text.chars().flat_map(char::escape_default).collect();
    match printable.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &printable[..cut]),
        None => printable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(listen_host: &str, origins: &[&str], hosts: &[&str]) -> Guard {
        let settings = GuardSettings {
            allow_origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        };
        Guard::new(listen_host, &[&settings])
    }

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method("POST").uri("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn allows(guard: &Guard, headers: &[(&str, &str)]) -> bool {
        guard.check(&request(headers)).is_ok()
    }

    #[test]
    fn loopback_hosts_pass_in_every_spelling() {
        let guard = guard("127.0.0.1", &[], &[]);
        for host in [
            "127.0.0.1:4002",
            "127.0.0.1",
            "127.0.0.2:4002",
            "[::1]:4002",
            "[::1]",
            "[0:0:0:0:0:0:0:1]:4002",
            "localhost:4002",
            "LOCALHOST",
            "localhost.:4002",
            "api.localhost:4002",
        ] {
            assert!(allows(&guard, &[("host", host)]), "{host}");
        }
        assert!(allows(&guard, &[]), "no Host at all (HTTP/1.0) is no browser's");
    }

    #[test]
    fn other_hosts_are_refused_unless_allowed_or_listened_on() {
        let guard = guard("192.168.1.20", &[], &["Host.Docker.Internal:4002"]);
        for host in ["192.168.1.20:4002", "host.docker.internal:4002", "HOST.DOCKER.INTERNAL"] {
            assert!(allows(&guard, &[("host", host)]), "{host}");
        }
        for host in [
            "attacker.example:4002",
            "localhost.attacker.example",
            "127.0.0.1.nip.io:4002",
            "192.168.1.21:4002",
            "docker.internal",
            "",
            "[::1:4002",
            "127.0.0.1:port",
            "127.0.0.1:4002:4002",
            "a b",
        ] {
            assert!(!allows(&guard, &[("host", host)]), "{host}");
        }
        assert!(!allows(&guard, &[("host", "127.0.0.1"), ("host", "attacker.example")]), "every Host counts");
    }

    #[test]
    fn a_bare_ipv6_listen_host_allows_its_bracketed_form() {
        let guard = guard("fd00::20", &[], &[]);
        assert!(allows(&guard, &[("host", "[fd00::20]:4002")]));
        assert!(!allows(&guard, &[("host", "[fd00::21]:4002")]));
    }

    #[test]
    fn an_origin_passes_only_when_allowed_exactly() {
        let guard = guard("127.0.0.1", &["http://localhost:4200/"], &[]);
        assert!(allows(&guard, &[("origin", "http://localhost:4200")]));
        assert!(allows(&guard, &[("origin", "HTTP://LOCALHOST:4200")]));
        for origin in ["http://localhost:4201", "https://localhost:4200", "http://evil.example", "null", ""] {
            assert!(!allows(&guard, &[("origin", origin)]), "{origin}");
        }
        let refusal = guard.check(&request(&[("origin", "http://evil.example")])).unwrap_err();
        assert!(refusal.message().contains("--allow-origin http://evil.example"), "{}", refusal.message());
    }

    #[test]
    fn a_page_request_without_origin_is_refused_by_its_fetch_metadata() {
        let guard = guard("127.0.0.1", &["http://localhost:4200"], &[]);
        assert!(!allows(&guard, &[("sec-fetch-site", "cross-site")]));
        assert!(!allows(&guard, &[("sec-fetch-site", "same-site")]));
        assert!(allows(&guard, &[("sec-fetch-site", "none")]), "an address typed in the browser");
        assert!(allows(&guard, &[("sec-fetch-site", "cross-site"), ("origin", "http://localhost:4200")]));
    }

    #[test]
    fn allow_list_entries_are_checked_for_their_form() {
        assert_eq!(allowed_origin("http://LocalHost:4200/").unwrap(), "http://localhost:4200");
        assert_eq!(allowed_origin("null").unwrap(), "null");
        for bad in ["localhost:4200", "http://localhost:4200/app", "http://", "http://a b", "*"] {
            assert!(allowed_origin(bad).is_err(), "{bad}");
        }
        assert_eq!(allowed_host("host.docker.internal:4002").unwrap(), "host.docker.internal");
        assert_eq!(allowed_host("[::1]").unwrap(), "::1");
        for bad in ["http://host.docker.internal", "a/b", ""] {
            assert!(allowed_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refused_values_are_quoted_printable_and_short() {
        let guard = guard("127.0.0.1", &[], &[]);
        let long = format!("http://{}.example", "a".repeat(5000));
        let refusal = guard.check(&request(&[("origin", &long)])).unwrap_err();
        assert!(refusal.message().len() < 1000, "{}", refusal.message());
        assert_eq!(shown("a\u{7}b"), "a\\u{7}b");
    }

    #[test]
    fn each_origin_or_host_is_warned_about_once_and_the_list_is_bounded() {
        let guard = guard("127.0.0.1", &[], &[]);
        for _ in 0..3 {
            let _ = guard.check(&request(&[("origin", "http://evil.example")]));
        }
        assert_eq!(guard.warned.lock().unwrap().len(), 1);
        for n in 0..(MAX_WARNED + 50) {
            let _ = guard.check(&request(&[("origin", &format!("http://evil{n}.example"))]));
        }
        assert_eq!(guard.warned.lock().unwrap().len(), MAX_WARNED);
    }
}
