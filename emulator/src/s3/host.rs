//! Path-style and virtual-hosted-style addressing on the local port: `http://127.0.0.1:4569/<bucket>/<key>`, and
//! `http://<bucket>.localhost:4569/<key>` (or `<bucket>.s3.localhost`, `<bucket>.127.0.0.1.nip.io` and the like
//! are not needed: any name that ends in `.localhost` resolves to loopback).

use s3s::host::{S3Host, VirtualHost};
use s3s::S3Result;

pub struct LocalHost;

/// The bucket a `Host` header names, if it is `<bucket>.localhost` (or `<bucket>.s3.localhost`).
pub fn bucket_of_host(host: &str) -> Option<&str> {
    let name = host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(name, _)| name);
    let bucket = name.strip_suffix(".localhost")?;
    let bucket = bucket.strip_suffix(".s3").unwrap_or(bucket);
    (!bucket.is_empty()).then_some(bucket)
}

impl S3Host for LocalHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match bucket_of_host(host) {
            Some(bucket) => VirtualHost::new(host).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_read_from_localhost_subdomains_only() {
        assert_eq!(bucket_of_host("photos.localhost:4569"), Some("photos"));
        assert_eq!(bucket_of_host("photos.s3.localhost"), Some("photos"));
        assert_eq!(bucket_of_host("127.0.0.1:4569"), None);
        assert_eq!(bucket_of_host("localhost:4569"), None);
    }
}
