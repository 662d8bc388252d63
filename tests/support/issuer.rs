//! A JWT issuer on loopback, as an identity provider is one on the internet: it signs tokens with an RSA key
//! (`tests/fixtures/auth/issuer-key.pem`, made for these tests) and serves its OpenID configuration and JSON Web
//! Key Set, so that the emulator's JWT authorizers discover and check real signatures. A second key
//! (`stranger-key.pem`) signs tokens the issuer never issued.

use crate::repo_root;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The key id the issuer's tokens and key set name.
pub const KEY_ID: &str = "ftb-test-key";
/// The audience the fixture's JWT authorizer accepts.
pub const AUDIENCE: &str = "ftb-app";

pub struct Issuer {
    /// The issuer URL (`iss`), also where its configuration is served.
    pub url: String,
    key: EncodingKey,
    stranger: EncodingKey,
    /// How many times the key set was fetched.
    key_fetches: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn read_key(file: &str) -> EncodingKey {
    let pem = std::fs::read(repo_root().join("tests/fixtures/auth").join(file)).expect("the test keys");
    EncodingKey::from_rsa_pem(&pem).expect("an RSA key in PEM")
}

impl Issuer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/issuer", listener.local_addr().unwrap());
        let key = read_key("issuer-key.pem");
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK of the key");
        jwk.common.key_id = Some(KEY_ID.to_string());
        let key_set = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap();
        let configuration = json!({"issuer": url, "jwks_uri": format!("{url}/jwks.json")}).to_string();
        let key_fetches = Arc::new(AtomicUsize::new(0));
        let fetches = key_fetches.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (key_set, configuration, fetches) = (key_set.clone(), configuration.clone(), fetches.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 2048];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
                    let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                    let (status, body) = if path.ends_with("/.well-known/openid-configuration") {
                        ("200 OK", configuration)
                    } else if path.ends_with("/jwks.json") {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        ("200 OK", key_set)
                    } else {
                        ("404 Not Found", "{}".to_string())
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                });
            }
        });
        Self { url, key, stranger: read_key("stranger-key.pem"), key_fetches, server }
    }

    /// Claims of a valid token for the fixture's authorizer, valid for an hour: `iss`, `aud`, `sub`, `iat`, `exp`.
    pub fn claims(&self) -> Value {
        let now = epoch_seconds();
        json!({"iss": self.url, "aud": AUDIENCE, "sub": "user-1", "iat": now - 10, "exp": now + 3600})
    }

    /// A token with `claims`, signed by the issuer's key.
    pub fn token(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&self.header(), claims, &self.key).unwrap()
    }

    /// A token with `claims` and the issuer's key id, signed by another key.
    pub fn forged_token(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&self.header(), claims, &self.stranger).unwrap()
    }

    pub fn key_fetches(&self) -> usize {
        self.key_fetches.load(Ordering::SeqCst)
    }

    fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KEY_ID.to_string());
        header
    }
}

/// Seconds since the epoch.
pub fn epoch_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
