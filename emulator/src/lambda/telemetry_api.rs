//! The subscribe calls of the Telemetry API (`PUT /2022-07-01/telemetry`) and the Logs API
//! (`PUT /2020-08-15/logs`) on each process's Runtime API listener, made by a registered extension
//! (`Lambda-Extension-Identifier`): the request checked as Lambda checks it (answered `400` with a
//! `ValidationError`), then `200 "OK"`. What happens to the events is [`super::telemetry`]'s.

use super::extensions_api::{known_extension, refuse};
use super::handoff::WorkerLink;
use super::telemetry::{Buffering, Schema, Subscription};
use crate::server::{json, read_body, Body};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{json as j, Value};
use std::time::Duration;

/// Telemetry API reference, "buffering": the bounds of each setting.
const MAX_ITEMS: (u64, u64) = (25, 30_000);
const MAX_BYTES: (u64, u64) = (256 * 1024, 1024 * 1024);
const TIMEOUT_MS: (u64, u64) = (25, 30_000);

pub async fn subscribe(link: &WorkerLink, request: Request<Incoming>, schema: Schema) -> Response<Body> {
    // Subscriptions are for registered extensions, refused as the Extensions API refuses unknown ones.
    let extension = match known_extension(link, &request) {
        Ok(extension) => extension,
        Err(refusal) => return refuse(&refusal),
    };
    let body = read_body(request.into_body(), 64 * 1024).await.unwrap_or_default();
    let subscription =
        serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string()).and_then(|value| checked(&value, schema));
    match subscription {
        Ok(subscription) => {
            tracing::info!(target: "lambda", "{} extension {} subscribed to telemetry at {}", link.function, extension.name, subscription.destination);
            link.subscribe_telemetry(subscription);
            json(StatusCode::OK, &Value::String("OK".into()))
        }
        Err(message) => json(StatusCode::BAD_REQUEST, &j!({ "errorType": "ValidationError", "errorMessage": message })),
    }
}

/// The subscription a request asks for, or what is wrong with it.
fn checked(request: &Value, schema: Schema) -> Result<Subscription, String> {
    let destination = &request["destination"];
    if destination["protocol"] != "HTTP" {
        return Err(format!(
            "destination.protocol must be HTTP (TCP is not emulated), not {}",
            destination["protocol"]
        ));
    }
    let uri = destination["URI"].as_str().ok_or("destination.URI is required")?;
    let local = uri.replacen("://sandbox.localdomain", "://127.0.0.1", 1);
    let parsed: hyper::Uri = local.parse().map_err(|e| format!("destination.URI {uri:?}: {e}"))?;
    if parsed.scheme_str() != Some("http") || parsed.port().is_none() {
        return Err(format!("destination.URI {uri:?}: an http:// URI with a port is expected"));
    }
    let types: Vec<&str> =
        request["types"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if types.is_empty() {
        return Err("types should not be empty".into());
    }
    if let Some(unknown) = types.iter().find(|t| !matches!(**t, "platform" | "function" | "extension")) {
        return Err(format!("unknown type {unknown:?}: platform, function or extension"));
    }
    let buffering = &request["buffering"];
    let bounded = |name: &str, (low, high): (u64, u64), default: u64| -> Result<u64, String> {
        match buffering.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value
                .as_u64()
                .filter(|n| (low..=high).contains(n))
                .ok_or(format!("buffering.{name} must be a whole number from {low} to {high}")),
        }
    };
    let defaults = Buffering::default();
    let buffering = Buffering {
        max_items: bounded("maxItems", MAX_ITEMS, defaults.max_items as u64)? as usize,
        max_bytes: bounded("maxBytes", MAX_BYTES, defaults.max_bytes as u64)? as usize,
        timeout: Duration::from_millis(bounded("timeoutMs", TIMEOUT_MS, defaults.timeout.as_millis() as u64)?),
    };
    Ok(Subscription {
        schema,
        destination: local,
        platform: types.contains(&"platform"),
        function: types.contains(&"function"),
        extension: types.contains(&"extension"),
        buffering,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_is_checked_as_lambda_checks_it() {
        let request = j!({
            "schemaVersion": "2022-12-13",
            "destination": { "protocol": "HTTP", "URI": "http://sandbox.localdomain:8080" },
            "types": ["platform", "function"],
            "buffering": { "timeoutMs": 25 },
        });
        let subscription = checked(&request, Schema::Telemetry).unwrap();
        assert_eq!(subscription.destination, "http://127.0.0.1:8080");
        assert!(subscription.platform && subscription.function && !subscription.extension);
        assert_eq!(subscription.buffering.timeout, Duration::from_millis(25));
        let mut no_types = request.clone();
        no_types["types"] = j!([]);
        assert_eq!(checked(&no_types, Schema::Telemetry).unwrap_err(), "types should not be empty");
        let mut no_port = request.clone();
        no_port["destination"]["URI"] = j!("http://sandbox.localdomain");
        assert!(checked(&no_port, Schema::Telemetry).is_err());
        let mut too_fast = request;
        too_fast["buffering"]["timeoutMs"] = j!(1);
        assert!(checked(&too_fast, Schema::Telemetry).is_err());
    }
}
