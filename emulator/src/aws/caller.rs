//! Who sent a request, as AWS reads it from the SigV4 signature: the region in the credential scope
//! (`Credential=<key>/<date>/<region>/<service>/aws4_request`, in the `Authorization` header or a presigned
//! URL's `X-Amz-Credential`) and the account. Resources belong to a region and an account, so the same name in
//! two regions is two resources.
//!
//! Signatures are not checked (any credentials work locally). The account is the local [`ACCOUNT_ID`] unless the
//! access key id is itself twelve digits, which then names the account: LocalStack's convention, so tests can
//! act as a second account with `AWS_ACCESS_KEY_ID=111111111111`.

use super::names::{is_account_id, ACCOUNT_ID};
use hyper::HeaderMap;

/// The account and region a request acts in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Caller {
    pub account: String,
    pub region: String,
}

impl Caller {
    /// The local account in `region`: the app's own place, for everything that is not a signed request.
    pub fn home(region: &str) -> Self {
        Self { account: ACCOUNT_ID.to_string(), region: region.to_string() }
    }

    /// The caller a request's signature names; what it leaves out (an unsigned request) is `home`'s.
    pub fn of_request(headers: &HeaderMap, query: Option<&str>, home: &Caller) -> Self {
        let credential = headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split_once("Credential=").map(|(_, rest)| rest.to_string()))
            .or_else(|| presigned_credential(query?));
        let Some(credential) = credential else { return home.clone() };
        let mut scope = credential.split([',', ' ']).next().unwrap_or_default().split('/');
        let access_key = scope.next().unwrap_or_default();
        let region = scope.nth(1).filter(|r| !r.is_empty());
        Self {
            account: if is_account_id(access_key) { access_key.to_string() } else { home.account.clone() },
            region: region.map_or_else(|| home.region.clone(), String::from),
        }
    }
}

/// `X-Amz-Credential` of a presigned URL's query, decoded.
fn presigned_credential(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let value = pair.strip_prefix("X-Amz-Credential=")?;
        Some(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(authorization: &str, query: Option<&str>) -> Caller {
        let mut headers = HeaderMap::new();
        if !authorization.is_empty() {
            headers.insert(hyper::header::AUTHORIZATION, authorization.parse().unwrap());
        }
        Caller::of_request(&headers, query, &Caller::home("eu-north-1"))
    }

    #[test]
    fn the_signature_names_the_region_and_a_numeric_key_the_account() {
        let signed =
            "AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(caller(signed, None), Caller { account: ACCOUNT_ID.into(), region: "us-east-1".into() });
        let second = "AWS4-HMAC-SHA256 Credential=111111111111/20261205/eu-west-1/sqs/aws4_request, Signature=x";
        assert_eq!(caller(second, None), Caller { account: "111111111111".into(), region: "eu-west-1".into() });
        let presigned = "X-Amz-Credential=test%2F20261205%2Fap-south-1%2Fsqs%2Faws4_request&X-Amz-Date=1";
        assert_eq!(caller("", Some(presigned)).region, "ap-south-1");
        assert_eq!(caller("", None), Caller::home("eu-north-1"));
    }
}
