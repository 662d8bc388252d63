//! The REST API's keys (`provider.apiGateway.apiKeys`) and the check of a `private: true` route: the key in
//! `x-api-key` (or, with `apiKeySourceType: AUTHORIZER`, the authorizer's `usageIdentifierKey`) must be one of
//! them and enabled, else 403 `Forbidden`. Keys without a value get one generated, stable for the service,
//! stage and name, so that a restart or a live edit keeps them.

use crate::config::api_keys::ApiKey;
use crate::config::Service;
use sha2::{Digest, Sha256};

/// One key, its value known.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub value: String,
    /// What events carry as `requestContext.identity.apiKeyId`.
    pub id: String,
    pub enabled: bool,
}

#[derive(Debug, Default)]
pub struct ApiKeys {
    keys: Vec<Key>,
    /// `apiKeySourceType: AUTHORIZER`.
    from_authorizer: bool,
}

impl ApiKeys {
    /// The service's keys; when a route is private and none is configured, one named `default` (as
    /// serverless-offline generates one), so that the route can be called at all.
    pub fn from_service(service: &Service, any_private: bool) -> Self {
        let mut configured = service.auth.api_keys.clone();
        if configured.is_empty() && any_private {
            configured.push(ApiKey { name: "default".into(), value: None, enabled: true });
        }
        let keys = configured
            .iter()
            .map(|key| Key {
                name: key.name.clone(),
                value: key.value.clone().unwrap_or_else(|| generated(service, &key.name, "value", 40)),
                id: generated(service, &key.name, "id", 10),
                enabled: key.enabled,
            })
            .collect();
        Self { keys, from_authorizer: service.auth.api_key_from_authorizer }
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The key a private route's request presents, when it is a valid one.
    pub fn admit(&self, header: Option<&str>, usage_identifier_key: Option<&str>) -> Option<&Key> {
        let presented = if self.from_authorizer { usage_identifier_key } else { header }?;
        self.keys.iter().find(|key| key.enabled && key.value == presented)
    }
}

/// A value API Gateway could have generated (letters and digits), derived from the service, stage and key name.
fn generated(service: &Service, name: &str, what: &str, length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let seed = format!("ftb-offline api key {what}\0{}\0{}\0{name}", service.service, service.stage);
    let digest = Sha256::digest(seed.as_bytes());
    let digest = [digest.as_slice(), Sha256::digest(digest).as_slice()].concat();
    digest.iter().take(length).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}
