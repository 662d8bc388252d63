//! The S3 port: refuses foreign `Host` headers (DNS rebinding), answers CORS preflights from the bucket's rules,
//! hands every other request to s3s (which checks the SigV4 signature or presigned URL and runs the operation
//! against [`super::storage::LocalS3`]), and adds the bucket's CORS headers to answers for a page's origin.

use super::auth::LocalCredentials;
use super::buckets::Buckets;
use super::cors;
use super::host::{bucket_of_host, LocalHost};
use super::storage::LocalS3;
use crate::guard::Guard;
use crate::server::{response, Body};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HOST, ORIGIN};
use hyper::{Method, Request, Response, StatusCode};
use s3s::service::{S3Service, S3ServiceBuilder};
use std::sync::Arc;

pub struct S3Gateway {
    service: S3Service,
    buckets: Arc<Buckets>,
    guard: Arc<Guard>,
}

impl S3Gateway {
    pub fn new(buckets: Arc<Buckets>, guard: Arc<Guard>) -> std::io::Result<Self> {
        let mut builder = S3ServiceBuilder::new(LocalS3::new(buckets.clone())?);
        builder.set_auth(LocalCredentials::discover());
        builder.set_host(LocalHost);
        Ok(Self { service: builder.build(), buckets, guard })
    }

    pub fn buckets(&self) -> &Arc<Buckets> {
        &self.buckets
    }

    pub async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        if let Err(refusal) = self.guard.check_host_only(&request) {
            return error(StatusCode::FORBIDDEN, "AccessDenied", &refusal.message());
        }
        let origin = request.headers().get(ORIGIN).and_then(|v| v.to_str().ok()).map(String::from);
        let bucket = bucket_of(&request);
        if request.method() == Method::OPTIONS {
            return self.preflight(&request, origin.as_deref(), &bucket);
        }
        if let Err(malformed) = super::signature::check_syntax(&request) {
            return error(malformed.status, malformed.code, &malformed.message);
        }
        let method = request.method().to_string();
        // s3s is not ours: should it panic on some input, that request gets S3's internal error and the rest go on.
        let call = std::panic::AssertUnwindSafe(self.service.call(request.map(s3s::Body::from)));
        let mut reply = match futures_util::FutureExt::catch_unwind(call).await {
            Ok(Ok(reply)) => reply.map(|body| body.map_err(std::io::Error::other).boxed_unsync()),
            Ok(Err(err)) => {
                tracing::warn!(target: "s3", "the request failed: {err:?}");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                );
            }
            Err(_) => {
                tracing::warn!(target: "s3", "s3s panicked on a request; it was answered with InternalError");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                );
            }
        };
        if let Some(origin) = origin {
            if let Some(headers) = cors::actual(&self.buckets.settings(&bucket).cors, &origin, &method) {
                reply.headers_mut().extend(headers);
            }
        }
        reply
    }

    /// A browser's preflight: allowed by the bucket's CORS rules, or 403 `AccessForbidden` as S3 answers it.
    fn preflight(&self, request: &Request<Incoming>, origin: Option<&str>, bucket: &str) -> Response<Body> {
        let headers = request.headers();
        let method = headers.get("access-control-request-method").and_then(|v| v.to_str().ok());
        let resource = if request.uri().path().trim_matches('/').contains('/') { "OBJECT" } else { "BUCKET" };
        let (Some(origin), Some(method)) = (origin, method) else {
            return forbidden(cors::NOT_ALLOWED, resource);
        };
        if !self.buckets.exists(bucket) {
            return forbidden(cors::NO_BUCKET, resource);
        }
        let requested: Vec<String> = headers
            .get("access-control-request-headers")
            .and_then(|v| v.to_str().ok())
            .map(|list| list.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        match cors::preflight(&self.buckets.settings(bucket).cors, origin, method, &requested) {
            Ok(allowed) => {
                let mut reply = response(StatusCode::OK, "text/plain", "");
                reply.headers_mut().extend(allowed);
                reply
            }
            Err(why) => forbidden(why, resource),
        }
    }
}

/// A refused preflight, as S3 words it: `AccessForbidden` with the method and what it was for.
fn forbidden(message: &str, resource: &str) -> Response<Body> {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>");
    crate::aws::query::element(&mut body, "Code", "AccessForbidden");
    crate::aws::query::element(&mut body, "Message", message);
    crate::aws::query::element(&mut body, "Method", "OPTIONS");
    crate::aws::query::element(&mut body, "ResourceType", resource);
    crate::aws::query::element(&mut body, "RequestId", &uuid::Uuid::new_v4().simple().to_string().to_uppercase());
    body.push_str("</Error>");
    response(StatusCode::FORBIDDEN, "application/xml", body)
}

/// The bucket a request is for: its virtual host, else the first segment of its path.
fn bucket_of<B>(request: &Request<B>) -> String {
    let host = request.headers().get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(bucket) = bucket_of_host(host) {
        return bucket.to_string();
    }
    let first = request.uri().path().trim_start_matches('/').split('/').next().unwrap_or_default();
    percent_encoding::percent_decode_str(first).decode_utf8_lossy().into_owned()
}

/// An S3 error document.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>");
    crate::aws::query::element(&mut body, "Code", code);
    crate::aws::query::element(&mut body, "Message", message);
    body.push_str("</Error>");
    response(status, "application/xml", body)
}
