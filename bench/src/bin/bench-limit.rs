//! `bench-limit`: the least any tool can do to serve a `lambda_runtime` handler as processes (issue #28, item 4),
//! the reference the bench holds ftb-offline to. No ftb-offline code: hyper and tokio only.
//!
//! `bench-limit HANDLER [--port PORT] [--concurrency N]` starts N processes of HANDLER (default 32), each with
//! Lambda's environment and a log stream of its own, all on one Runtime API on a loopback port with a queue of
//! pending invocations. It then answers a `POST` to any path on PORT (default: any free port) by handing the body
//! to an idle handler as the event and answering 200 with the handler's response (500 with its error): three
//! loopback exchanges per request (the client's request, the handler's `next` answered, its response posted), the
//! same as for any tool, with nothing else; `next` answers with the headers Lambda sends with every invocation
//! (request id, deadline, function ARN, X-Ray trace id). It writes `ready: http://127.0.0.1:PORT` to stderr once every handler
//! has asked for its first invocation (the client port is bound then), and kills its handlers on SIGINT or SIGTERM;
//! they are killed when it drops them too, and they are in its process group.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Notify};

const USAGE: &str = "usage: bench-limit HANDLER [--port PORT] [--concurrency N]";
const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/";
const FUNCTION_NAME: &str = "hello";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:hello";
/// The time each invocation is given (Lambda's longest timeout): the handler's deadline.
const TIMEOUT: Duration = Duration::from_secs(900);

/// An invocation waiting for a handler.
struct Event {
    id: u64,
    body: Bytes,
}

/// What a handler answered: its response (200) or its error (500).
struct Answer {
    status: StatusCode,
    body: Bytes,
}

/// The invocations no handler has taken yet, and the handlers waiting in `next` for one.
#[derive(Default)]
struct Queue {
    events: VecDeque<Event>,
    idle: VecDeque<oneshot::Sender<Event>>,
}

/// The state both servers share.
struct Limit {
    queue: Mutex<Queue>,
    /// Client requests waiting for their handler's answer, by request id.
    waiting: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    next_id: AtomicU64,
    handlers: usize,
    /// `next` calls so far; `ready` is notified at the `handlers`-th.
    polls: AtomicUsize,
    ready: Notify,
}

impl Limit {
    fn new(handlers: usize) -> Limit {
        Limit {
            queue: Mutex::default(),
            waiting: Mutex::default(),
            next_id: AtomicU64::new(1),
            handlers,
            polls: AtomicUsize::new(0),
            ready: Notify::new(),
        }
    }

    /// Hands `event` to a handler waiting in `next`, or queues it for the next one to ask.
    fn dispatch(&self, mut event: Event) {
        let mut queue = self.queue.lock().unwrap();
        while let Some(handler) = queue.idle.pop_front() {
            match handler.send(event) {
                Ok(()) => return,
                // That handler's `next` request is gone: the next idle one gets the event.
                Err(returned) => event = returned,
            }
        }
        queue.events.push_back(event);
    }

    /// The next invocation for a handler, waiting for one if none is queued.
    async fn next_event(&self) -> Option<Event> {
        let receiver = {
            let mut queue = self.queue.lock().unwrap();
            if let Some(event) = queue.events.pop_front() {
                return Some(event);
            }
            let (sender, receiver) = oneshot::channel();
            queue.idle.push_back(sender);
            receiver
        };
        receiver.await.ok()
    }

    /// Answers the client waiting for invocation `id`.
    fn complete(&self, id: u64, answer: Answer) {
        let client = self.waiting.lock().unwrap().remove(&id);
        if let Some(client) = client {
            let _ = client.send(answer);
        }
    }
}

/// A request to the Runtime API.
enum Route {
    Next,
    /// A handler's response or error for an invocation, with the status its client gets.
    Answer(u64, StatusCode),
    InitError,
    Unknown,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        let Some(rest) = path.strip_prefix(RUNTIME_PREFIX) else { return Route::Unknown };
        match (method, rest) {
            (&Method::GET, "invocation/next") => Route::Next,
            (&Method::POST, "init/error") => Route::InitError,
            (&Method::POST, rest) => {
                let answer = rest.strip_prefix("invocation/").and_then(|r| r.split_once('/'));
                let status = match answer.map(|(_, kind)| kind) {
                    Some("response") => StatusCode::OK,
                    Some("error") => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => return Route::Unknown,
                };
                match answer.and_then(|(id, _)| id.parse().ok()) {
                    Some(id) => Route::Answer(id, status),
                    None => Route::Unknown,
                }
            }
            _ => Route::Unknown,
        }
    }
}

/// The client-facing server: the body of any request is the event; the handler's answer is the response.
async fn invoke(limit: Arc<Limit>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let Ok(body) = request.into_body().collect().await.map(|body| body.to_bytes()) else {
        return respond(StatusCode::BAD_REQUEST, Bytes::new());
    };
    let id = limit.next_id.fetch_add(1, Ordering::Relaxed);
    let (sender, answer) = oneshot::channel();
    limit.waiting.lock().unwrap().insert(id, sender);
    limit.dispatch(Event { id, body });
    match answer.await {
        Ok(answer) => respond(answer.status, answer.body),
        Err(_) => respond(StatusCode::BAD_GATEWAY, Bytes::new()),
    }
}

/// The Runtime API the handlers poll.
async fn runtime_api(limit: Arc<Limit>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let route = Route::of(request.method(), request.uri().path());
    match route {
        Route::Next => next(&limit).await,
        Route::Answer(id, status) => {
            let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
            limit.complete(id, Answer { status, body });
            respond(StatusCode::ACCEPTED, Bytes::new())
        }
        Route::InitError => respond(StatusCode::ACCEPTED, Bytes::new()),
        Route::Unknown => respond(StatusCode::NOT_FOUND, Bytes::new()),
    }
}

/// `GET …/invocation/next`: the next event, with the headers `lambda_runtime` reads.
async fn next(limit: &Limit) -> Response<Full<Bytes>> {
    if limit.polls.fetch_add(1, Ordering::Relaxed) + 1 == limit.handlers {
        limit.ready.notify_one();
    }
    let Some(event) = limit.next_event().await else {
        return respond(StatusCode::INTERNAL_SERVER_ERROR, Bytes::new());
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + TIMEOUT;
    Response::builder()
        .header("lambda-runtime-aws-request-id", event.id.to_string())
        .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
        .header("lambda-runtime-invoked-function-arn", FUNCTION_ARN)
        .header("lambda-runtime-trace-id", trace_id(event.id, deadline.as_secs()))
        .header("content-type", "application/json")
        .body(Full::new(event.body))
        .expect("a valid response")
}

/// An X-Ray trace header of Lambda's form, one per invocation. Lambda sends one with every invocation, traced or
/// not, and `lambda_runtime` puts it in `_X_AMZN_TRACE_ID` (glibc's `setenv` then keeps each value for good): a
/// handler without it does less work than on Lambda, or on any tool that sends it.
fn trace_id(id: u64, epoch_s: u64) -> String {
    let mixed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("Root=1-{epoch_s:08x}-{mixed:024x};Parent={mixed:016x};Sampled=0")
}

fn respond(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}

/// Serves `listener` with `handle`: one task per keep-alive HTTP/1 connection, Nagle off.
fn serve<H, F>(listener: TcpListener, limit: Arc<Limit>, handle: H)
where
    H: Fn(Arc<Limit>, Request<Incoming>) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let limit = limit.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let response = handle(limit.clone(), request);
                    async move { Ok::<_, Infallible>(response.await) }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

/// Starts handler process `index` on the Runtime API at `runtime_api` (`127.0.0.1:PORT`).
fn spawn_handler(handler: &str, runtime_api: &str, index: usize) -> std::io::Result<Child> {
    Command::new(handler)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{FUNCTION_NAME}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("bench-limit/{index}"))
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
}

/// Waits until every handler has asked for its first invocation; the reason if one exits first.
async fn wait_until_polled(limit: &Limit, handlers: &mut [Child]) -> Result<(), String> {
    loop {
        if tokio::time::timeout(Duration::from_millis(20), limit.ready.notified()).await.is_ok() {
            return Ok(());
        }
        for handler in handlers.iter_mut() {
            if let Ok(Some(status)) = handler.try_wait() {
                return Err(format!("a handler exited ({status}) before asking for its first invocation"));
            }
        }
    }
}

async fn wait_for_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// Kills the handlers and waits for them.
async fn stop(handlers: &mut [Child]) {
    for handler in handlers.iter_mut() {
        let _ = handler.kill().await;
    }
}

/// Kills the handlers, prints `reason` and exits with status 1.
fn fail(handlers: &mut [Child], reason: &str) -> ! {
    for handler in handlers.iter_mut() {
        let _ = handler.start_kill();
    }
    eprintln!("bench-limit: {reason}");
    std::process::exit(1)
}

/// The handler's path, the client port (0: any) and the number of handler processes.
fn arguments() -> Result<(String, u16, usize), String> {
    fn value<T: std::str::FromStr>(name: &str, given: Option<String>) -> Result<T, String> {
        given.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a number"))
    }
    let (mut handler, mut port, mut concurrency): (Option<String>, u16, usize) = (None, 0, 32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = value("--port", args.next())?,
            "--concurrency" => concurrency = value("--concurrency", args.next())?,
            _ if handler.is_none() && !arg.starts_with('-') => handler = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let handler = handler.ok_or("the handler's path is missing")?;
    Ok((handler, port, concurrency.max(1)))
}

#[tokio::main]
async fn main() {
    let (handler, port, concurrency) = arguments().unwrap_or_else(|reason| {
        eprintln!("bench-limit: {reason}\n{USAGE}");
        std::process::exit(2)
    });
    let limit = Arc::new(Limit::new(concurrency));
    let runtime_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the Runtime API");
    let runtime_address = runtime_listener.local_addr().expect("the Runtime API's address").to_string();
    serve(runtime_listener, limit.clone(), runtime_api);
    let mut handlers = Vec::with_capacity(concurrency);
    for index in 0..concurrency {
        match spawn_handler(&handler, &runtime_address, index) {
            Ok(child) => handlers.push(child),
            Err(err) => fail(&mut handlers, &format!("{handler} does not start: {err}")),
        }
    }
    if let Err(reason) = wait_until_polled(&limit, &mut handlers).await {
        fail(&mut handlers, &reason);
    }
    let client_listener = match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(err) => fail(&mut handlers, &format!("cannot bind 127.0.0.1:{port}: {err}")),
    };
    let address = client_listener.local_addr().expect("the client port's address");
    serve(client_listener, limit, invoke);
    eprintln!("ready: http://{address} ({concurrency} handler processes)");
    wait_for_signal().await;
    stop(&mut handlers).await;
}
