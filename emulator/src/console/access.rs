//! Who may use the console: requests naming the console's own loopback address in `Host` (so a DNS-rebinding
//! page cannot reach it under another name), with no foreign `Origin` and no cross-site `Sec-Fetch-Site` (so
//! another site's page cannot drive it), and, for anything that changes state, the token of this start, which
//! only the console's own page has. No CORS header is ever sent: other origins cannot read an answer either.

use hyper::header::{HOST, ORIGIN};
use hyper::{Method, Request};

/// The header state-changing requests carry the per-start token in.
pub const TOKEN_HEADER: &str = "x-console-token";

pub struct Access {
    /// `127.0.0.1:4003`, `localhost:4003`, `[::1]:4003` (and the listen host's, when it is not loopback).
    hosts: Vec<String>,
    /// A fresh random token each start.
    token: String,
}

impl Access {
    pub fn new(listen_host: &str, port: u16) -> Self {
        let mut hosts: Vec<String> =
            ["127.0.0.1", "localhost", "[::1]"].iter().map(|host| format!("{host}:{port}")).collect();
        let listen =
            if listen_host.contains(':') { format!("[{listen_host}]:{port}") } else { format!("{listen_host}:{port}") };
        if !hosts.contains(&listen) && !matches!(listen_host, "0.0.0.0" | "::") {
            hosts.push(listen);
        }
        Self { hosts, token: uuid::Uuid::new_v4().simple().to_string() }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Why `request` is refused, if it is.
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), String> {
        let headers = request.headers();
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let host = text(HOST.as_str()).unwrap_or_default().to_ascii_lowercase();
        if !self.hosts.contains(&host) {
            return Err(format!("the console answers to {} only, not to Host {host:?}", self.hosts.join(", ")));
        }
        if let Some(origin) = text(ORIGIN.as_str()) {
            if origin.to_ascii_lowercase() != format!("http://{host}") {
                return Err(format!("requests from other origins ({origin}) are refused"));
            }
        }
        // A page of another site opening the console in a new tab is a navigation: it sees the page, not its data.
        let navigation = request.method() == Method::GET && text("sec-fetch-mode") == Some("navigate");
        if let Some(site) = text("sec-fetch-site") {
            if !matches!(site, "same-origin" | "none") && !navigation {
                return Err(format!("{site} requests are refused"));
            }
        }
        let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD);
        if changes_state && text(TOKEN_HEADER) != Some(self.token.as_str()) {
            return Err(format!("a state-changing request needs the {TOKEN_HEADER} of the console's page"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(method).uri("/api/overview");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_the_consoles_own_host_and_origin_get_through() {
        let access = Access::new("127.0.0.1", 4003);
        assert!(access.check(&request("GET", &[("host", "127.0.0.1:4003")])).is_ok());
        assert!(access.check(&request("GET", &[("host", "localhost:4003")])).is_ok());
        assert!(access.check(&request("GET", &[("host", "attacker.example:4003")])).is_err(), "DNS rebinding");
        assert!(access
            .check(&request("GET", &[("host", "127.0.0.1:4003"), ("origin", "http://evil.example")]))
            .is_err());
        let cross_site = [("host", "127.0.0.1:4003"), ("sec-fetch-site", "cross-site")];
        assert!(access.check(&request("GET", &cross_site)).is_err());
    }

    #[test]
    fn changes_need_the_token() {
        let access = Access::new("127.0.0.1", 4003);
        let same = [("host", "127.0.0.1:4003"), ("origin", "http://127.0.0.1:4003")];
        assert!(access.check(&request("POST", &same)).is_err());
        let token = access.token().to_string();
        let with_token = [same[0], same[1], (TOKEN_HEADER, token.as_str())];
        assert!(access.check(&request("POST", &with_token)).is_ok());
    }
}
