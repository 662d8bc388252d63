//! What S3 refuses in a signature's syntax before any key is looked up: a credential scope not of the form
//! `<key>/YYYYMMDD/<region>/<service>/aws4_request`, or an `X-Amz-Date` not in ISO 8601 basic form
//! (`YYYYMMDD'T'HHMMSS'Z'`), in the `Authorization` header or a presigned URL. Checked here, with S3's codes,
//! because s3s 0.14 reads the digits of these dates without checking them first (a fuzzer found it overflowing).

use hyper::{Request, StatusCode};

const CREDENTIAL_FORM: &str = "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

/// Why S3 refuses a signature's syntax: the status, error code and message of its error document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

fn malformed(status: StatusCode, code: &'static str, message: impl Into<String>) -> Malformed {
    Malformed { status, code, message: message.into() }
}

/// Whether the request's signature has well-formed dates and scope (a request that is not signed has).
pub fn check_syntax<B>(request: &Request<B>) -> Result<(), Malformed> {
    let headers = request.headers();
    if let Some(auth) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some((_, rest)) = auth.split_once("Credential=") {
            let credential = rest.split([',', ' ']).next().unwrap_or_default();
            if !credential_scope_ok(credential) {
                let message =
                    format!("The authorization header is malformed; the Credential is mal-formed; {CREDENTIAL_FORM}");
                return Err(malformed(StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed", message));
            }
        }
    }
    if let Some(date) = headers.get("x-amz-date") {
        if !date.to_str().is_ok_and(amz_date_ok) {
            let message = "AWS authentication requires a valid Date or x-amz-date header";
            return Err(malformed(StatusCode::FORBIDDEN, "AccessDenied", message));
        }
    }
    let query = request.uri().query().unwrap_or_default();
    let parameter = |name: &str| {
        query.split('&').find_map(|pair| {
            let value = pair.strip_prefix(name)?.strip_prefix('=')?;
            Some(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
        })
    };
    if parameter("X-Amz-Signature").is_some() {
        if !parameter("X-Amz-Credential").is_some_and(|c| credential_scope_ok(&c)) {
            let message = format!(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; {CREDENTIAL_FORM}"
            );
            return Err(malformed(StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError", message));
        }
        if !parameter("X-Amz-Date").is_some_and(|d| amz_date_ok(&d)) {
            let message = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"";
            return Err(malformed(StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError", message));
        }
    }
    Ok(())
}

/// `<key>/YYYYMMDD/<region>/<service>/aws4_request`.
fn credential_scope_ok(credential: &str) -> bool {
    let parts: Vec<&str> = credential.split('/').collect();
    matches!(parts.as_slice(), [key, date, region, service, "aws4_request"]
        if !key.is_empty() && digits(date, 8) && !region.is_empty() && !service.is_empty())
}

/// `YYYYMMDDTHHMMSSZ`.
fn amz_date_ok(date: &str) -> bool {
    date.len() == 16 && digits(&date[..8], 8) && &date[8..9] == "T" && digits(&date[9..15], 6) && date.ends_with('Z')
}

fn digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(uri: &str, headers: &[(&str, &str)]) -> Option<u16> {
        let mut request = Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        check_syntax(&request.body(()).unwrap()).err().map(|refusal| refusal.status.as_u16())
    }

    #[test]
    fn malformed_scopes_and_dates_are_refused_before_s3s_reads_them() {
        let good = "/b/k?X-Amz-Signature=00&X-Amz-Credential=test%2F20261205%2Feu-north-1%2Fs3%2Faws4_request&X-Amz-Date=20261205T000000Z";
        assert_eq!(refused(good, &[]), None);
        let bad_scope = "/b/k?X-Amz-Signature=00&X-Amz-Credential=test%2F1205%2st%2F2026Feu%2Fs3%2Faws4_request&X-Amz-Date=20261205T000000Z";
        assert_eq!(refused(bad_scope, &[]), Some(400));
        assert_eq!(
            refused(
                "/b/k?X-Amz-Signature=00&X-Amz-Credential=test%2F20261205%2Fr%2Fs3%2Faws4_request&X-Amz-Date=2026",
                &[]
            ),
            Some(400)
        );
        let header =
            "AWS4-HMAC-SHA256 Credential=test/2026-12-05/eu-north-1/s3/aws4_request, SignedHeaders=host, Signature=00";
        assert_eq!(refused("/b/k", &[("authorization", header)]), Some(400));
        assert_eq!(refused("/b/k", &[("x-amz-date", "20261205T00000Z")]), Some(403));
        assert_eq!(refused("/b/k", &[]), None, "unsigned requests are for s3s to refuse");
    }
}
