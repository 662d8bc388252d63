//! Serving hyper services on our listeners, with a shutdown signal. Shared by every emulated API.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A response body: whole ([`full`]), or streamed as it is produced ([`streamed`]). An error ends a streamed body
/// early: the connection is cut, so the client sees an incomplete response, not a complete wrong one.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole response body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A body sent as its chunks arrive (`first` goes before them); an `Err` cuts it off.
pub fn streamed(
    first: Bytes,
    chunks: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
) -> Body {
    use futures_util::StreamExt;
    let first = futures_util::stream::iter((!first.is_empty()).then_some(Ok(first)));
    let frames = first.chain(chunks).map(|chunk| chunk.map(hyper::body::Frame::data));
    BodyExt::boxed_unsync(http_body_util::StreamBody::new(frames))
}

/// A client must send a request's headers within this time, or its connection is closed (slow clients cannot
/// hold connections open). It also closes a keep-alive connection idle for that long, as servers commonly do.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Tells servers to stop; dropped or set, every accept loop and connection ends.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

pub struct ShutdownTrigger(watch::Sender<bool>);

pub fn shutdown_pair() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

/// Binds `host:port` (port 0 picks a free one) with an error that says what to do.
pub async fn bind(host: &str, port: u16, what: &str, flag: &str) -> Result<TcpListener, crate::error::Error> {
    TcpListener::bind((host, port)).await.map_err(|source| crate::error::Error::Bind {
        what: what.to_string(),
        address: format!("{host}:{port}"),
        hint: if source.kind() == std::io::ErrorKind::AddrInUse {
            format!("another program is using it: stop it, or choose another port with {flag}")
        } else {
            format!("choose another address with --host or another port with {flag}")
        },
        source,
    })
}

/// Serves HTTP/1.1 on `listener` until `shutdown`; `handle` answers each request. A client must send each
/// request's headers within [`HEADER_READ_TIMEOUT`].
pub fn serve<H, F>(listener: TcpListener, handle: H, shutdown: Shutdown) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    serve_with(listener, handle, shutdown, Some(HEADER_READ_TIMEOUT))
}

/// [`serve`] for the emulator's own handler processes (the Runtime API), which are not slow clients to guard
/// against: no header read timer, which costs a timer per request (two per invocation).
pub fn serve_own_processes<H, F>(listener: TcpListener, handle: H, shutdown: Shutdown) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    serve_with(listener, handle, shutdown, None)
}

fn serve_with<H, F>(
    listener: TcpListener,
    handle: H,
    mut shutdown: Shutdown,
    header_read_timeout: Option<std::time::Duration>,
) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let handle = handle.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            let response = handle(request, peer);
                            async move { Ok::<_, Infallible>(response.await) }
                        });
                        let mut builder = hyper::server::conn::http1::Builder::new();
                        builder.header_read_timeout(header_read_timeout);
                        if header_read_timeout.is_some() {
                            builder.timer(hyper_util::rt::TokioTimer::new());
                        }
                        let _ = builder.serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    })
}

/// Why a request body could not be read.
pub enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a whole request body, refusing more than `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

pub fn response(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(full(body))
        .expect("static parts are valid")
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    response(status, "application/json", serde_json::to_vec(value).expect("JSON values serialise"))
}
