//! Whose signatures the S3 API accepts. S3 requests are SigV4-signed with a body hash or with signed chunks, and
//! s3s checks the signature to read them, so it needs the secret of the access key that signed: here, the usual
//! local ones (`test`/`test` of LocalStack and the AWS examples, `S3RVER` of serverless-s3-local, `minioadmin`),
//! the dummy credentials ftb-offline gives handlers, the ftb-offline process's own `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY`, and every key pair in `~/.aws/credentials`. Any other key is refused as S3 refuses an
//! unknown one (InvalidAccessKeyId, 403), with what to do in the message.

use s3s::auth::{S3Auth, SecretKey};
use s3s::{s3_error, S3Result};
use std::collections::HashMap;
use std::path::Path;

/// Key pairs every local setup is likely to sign with.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("test", "test"),
    ("S3RVER", "S3RVER"),
    ("minioadmin", "minioadmin"),
    (crate::lambda::spec::DUMMY_ACCESS_KEY_ID, crate::lambda::spec::DUMMY_SECRET_ACCESS_KEY),
];

pub struct LocalCredentials {
    secrets: HashMap<String, String>,
}

impl LocalCredentials {
    /// The well-known pairs, the process's environment, and `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`).
    pub fn discover() -> Self {
        let mut secrets: HashMap<String, String> =
            WELL_KNOWN.iter().map(|(key, secret)| (key.to_string(), secret.to_string())).collect();
        if let (Ok(key), Ok(secret)) = (std::env::var("AWS_ACCESS_KEY_ID"), std::env::var("AWS_SECRET_ACCESS_KEY")) {
            secrets.insert(key, secret);
        }
        let file = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".aws/credentials")));
        if let Some(text) = file.and_then(|file| std::fs::read_to_string(file).ok()) {
            secrets.extend(shared_credentials(&text));
        }
        Self { secrets }
    }
}

/// The key pairs of a shared credentials file: `aws_access_key_id` and `aws_secret_access_key` per profile.
fn shared_credentials(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let (mut key, mut secret) = (None, None);
    for line in text.lines().map(str::trim).chain(std::iter::once("[end]")) {
        if line.starts_with('[') {
            if let (Some(k), Some(s)) = (key.take(), secret.take()) {
                pairs.push((k, s));
            }
            continue;
        }
        let Some((name, value)) = line.split_once('=') else { continue };
        match name.trim() {
            "aws_access_key_id" => key = Some(value.trim().to_string()),
            "aws_secret_access_key" => secret = Some(value.trim().to_string()),
            _ => {}
        }
    }
    pairs
}

#[async_trait::async_trait]
impl S3Auth for LocalCredentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.secrets.get(access_key) {
            Some(secret) => Ok(SecretKey::from(secret.as_str())),
            None => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records. Locally, S3 checks signatures: sign with test/test, or with a key pair from ~/.aws/credentials or ftb-offline's own AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_give_their_key_pairs() {
        let text = "[default]\naws_access_key_id = AKIA1\naws_secret_access_key=s1\n\n[other]\nregion=x\naws_access_key_id=AKIA2\naws_secret_access_key = s2\n[partial]\naws_access_key_id=AKIA3\n";
        assert_eq!(shared_credentials(text), [("AKIA1".into(), "s1".into()), ("AKIA2".into(), "s2".into())]);
    }
}
