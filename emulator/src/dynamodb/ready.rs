//! Waiting until DynamoDB Local answers. A TCP connect is not enough: Docker's port proxy accepts connections
//! before Java listens, so readiness is the first HTTP status line (any status: DynamoDB answers `GET /` with 400).

use std::future::Future;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a fresh DynamoDB Local may take to answer (the JVM starts in about 1.5 s on 2 cores).
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

pub enum NotReady {
    /// The process or container ended before answering.
    Exited,
    TimedOut,
}

/// Probes `127.0.0.1:port` until it answers HTTP. `still_running` is asked about once a second, so a
/// database that died is reported at once instead of after the whole timeout.
pub async fn wait_until_ready<F, Fut>(port: u16, timeout: Duration, mut still_running: F) -> Result<Duration, NotReady>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    let mut last_check = started;
    loop {
        if answers_http(port).await {
            return Ok(started.elapsed());
        }
        if started.elapsed() >= timeout {
            return Err(NotReady::TimedOut);
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            if !still_running().await {
                return Err(NotReady::Exited);
            }
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// One `GET /` on loopback; true when a status line comes back.
pub async fn answers_http(port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").await.ok()?;
        let mut head = [0u8; 5];
        stream.read_exact(&mut head).await.ok()?;
        Some(&head == b"HTTP/")
    };
    matches!(tokio::time::timeout(PROBE_TIMEOUT, probe).await, Ok(Some(true)))
}

/// Whether a program could listen on `127.0.0.1:port` now.
pub fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
