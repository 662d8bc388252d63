//! Who may use the console: requests naming the console's own loopback address and port in `Host` (so a
//! DNS-rebinding page cannot reach it under another name), with no foreign `Origin` and not marked cross-site by
//! `Sec-Fetch-Site` (so another site's page cannot drive it; only opening the page itself is let through), and,
//! for anything that changes state, the token of this start, which only the console's own page has. No CORS
//! header is ever sent: other origins cannot read an answer either. The header checks are the guard's
//! ([`crate::guard`]), held to the console's exact address.

use crate::guard::{normalise_origin, sent_by_another_site, shown};
use hyper::header::{HeaderMap, HOST, ORIGIN};
use hyper::{Method, Request};

/// The header state-changing requests carry the per-start token in.
pub const TOKEN_HEADER: &str = "x-console-token";

pub struct Access {
    /// `127.0.0.1:4003`, `localhost:4003`, `[::1]:4003`.
    hosts: Vec<String>,
    /// A fresh random token each start.
    token: String,
}

impl Access {
    /// The access of a console listening on loopback `port`.
    pub fn new(port: u16) -> Self {
        let hosts = ["127.0.0.1", "localhost", "[::1]"].iter().map(|host| format!("{host}:{port}")).collect();
        Self { hosts, token: uuid::Uuid::new_v4().simple().to_string() }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Why `request` is refused, if it is.
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), String> {
        let headers = request.headers();
        let host = single(headers, HOST.as_str())?.unwrap_or_default().to_ascii_lowercase();
        if !self.hosts.contains(&host) {
            return Err(format!("the console answers to {} only, not to Host {}", self.hosts.join(", "), shown(&host)));
        }
        if let Some(origin) = single(headers, ORIGIN.as_str())? {
            if normalise_origin(origin) != format!("http://{host}") {
                return Err(format!("requests from other origins ({}) are refused", shown(origin)));
            }
        }
        // Another site may link to the console: opening the page shows it to the user, never to that site.
        let opening_the_page = request.method() == Method::GET && request.uri().path() == "/";
        if sent_by_another_site(headers) && !opening_the_page {
            return Err("requests from pages of other sites are refused".into());
        }
        let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD);
        if changes_state && single(headers, TOKEN_HEADER)? != Some(self.token.as_str()) {
            return Err(format!("a state-changing request needs the {TOKEN_HEADER} of the console's page"));
        }
        Ok(())
    }
}

/// The one value of header `name`; a repeated header is refused rather than guessed at.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(format!("more than one {name} header"));
    }
    Ok(first.and_then(|value| value.to_str().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_the_consoles_own_host_and_origin_get_through() {
        let access = Access::new(4003);
        let get = |headers: &[(&str, &str)]| access.check(&request("GET", "/api/overview", headers));
        assert!(get(&[("host", "127.0.0.1:4003")]).is_ok());
        assert!(get(&[("host", "localhost:4003")]).is_ok());
        assert!(get(&[("host", "attacker.example:4003")]).is_err(), "DNS rebinding");
        assert!(get(&[("host", "127.0.0.1:4003"), ("host", "attacker.example:4003")]).is_err(), "two Hosts");
        assert!(get(&[("host", "127.0.0.1:4003"), ("origin", "http://evil.example")]).is_err());
        assert!(get(&[("host", "127.0.0.1:4003"), ("origin", "http://127.0.0.1:4003/")]).is_ok());
        let cross_site = [("host", "127.0.0.1:4003"), ("sec-fetch-site", "cross-site")];
        assert!(get(&cross_site).is_err());
        assert!(access.check(&request("GET", "/", &cross_site)).is_ok(), "a link from another site opens the page");
    }

    #[test]
    fn changes_need_the_token_from_the_consoles_own_pages() {
        let access = Access::new(4003);
        let token = access.token().to_string();
        let post = |headers: &[(&str, &str)]| access.check(&request("POST", "/api/queues/q/purge", headers));
        let same = ("origin", "http://127.0.0.1:4003");
        assert!(post(&[("host", "127.0.0.1:4003"), same]).is_err());
        assert!(post(&[("host", "127.0.0.1:4003"), same, (TOKEN_HEADER, &token)]).is_ok());
        let cross_site = ("sec-fetch-site", "cross-site");
        assert!(post(&[("host", "127.0.0.1:4003"), (TOKEN_HEADER, &token), cross_site]).is_err());
    }
}
