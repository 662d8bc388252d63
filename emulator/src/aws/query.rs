//! The AWS query protocol's plumbing, shared by the services that speak it (SQS's older clients, SNS): form
//! parameters (`Action=…&Attributes.entry.1.key=…`) from the body and the query string, and the XML text of
//! responses.

use std::collections::BTreeMap;
use std::fmt::Write;

/// The parameters of a query request: the body's form fields and the URL's query string.
#[derive(Debug, Default)]
pub struct Form(BTreeMap<String, String>);

impl Form {
    pub fn parse(query: Option<&str>, body: &[u8]) -> Self {
        let mut map = BTreeMap::new();
        for text in [query.unwrap_or_default(), &String::from_utf8_lossy(body)] {
            for pair in text.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                map.insert(form_decode(k), form_decode(v));
            }
        }
        Self(map)
    }

    pub fn action(&self) -> Option<&str> {
        self.0.get("Action").map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    /// `Prefix.1`, `Prefix.2`, … in order.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        (1..).map_while(|i| self.get(&format!("{prefix}.{i}"))).collect()
    }

    /// `Prefix.N.<key>` / `Prefix.N.<value>` pairs.
    pub fn entries(&self, prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
        (1..)
            .map_while(|i| {
                Some((
                    self.get(&format!("{prefix}.{i}.{key}"))?,
                    self.get(&format!("{prefix}.{i}.{value}")).unwrap_or_default(),
                ))
            })
            .collect()
    }
}

/// `<name>text</name>`, the text escaped.
pub fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    escape_into(out, text);
    let _ = write!(out, "</{name}>");
}

/// Escapes text as SQS and SNS do: the XML specials, and the carriage return as `&#xD;` (an XML parser turns a
/// raw one into a line feed, and a message body would no longer match its MD5).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// The AWS service a signed request names in its credential scope (`Credential=<key>/<date>/<region>/<service>/
/// aws4_request`): `sqs`, `sns`, `lambda`… `None` for an unsigned request.
pub fn signed_service(headers: &hyper::HeaderMap) -> Option<String> {
    let auth = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (_, credential) = auth.split_once("Credential=")?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3).map(String::from)
}
