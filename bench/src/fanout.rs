//! WebSocket fan-out on ftb-offline and on serverless-offline, each run as its own process: 1,000 clients
//! connect and learn their connection id from the `whoami` route (its route response), then a backend sends each
//! one message with PostToConnection over 32 keep-alive connections. The figure runs from the first post until
//! every client has its message; the fan-outs of the two tools are interleaved, the other tool paused. cargo
//! lambda watch has no WebSocket API.

use crate::cli;
use crate::peers::{self, Served};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 1_000;
const POSTING_CONNECTIONS: usize = 32;
/// Clients that connect (and ask for their id) at the same time.
const CONNECTING_AT_ONCE: usize = 100;

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One tool with its clients connected.
struct Connected {
    name: &'static str,
    served: Served,
    host: String,
    clients: Vec<Client>,
    ids: Vec<String>,
    times: Vec<Duration>,
}

/// Starts both tools, connects the clients to each, runs a warm-up fan-out and `runs` measured ones on each in
/// turn, and renders the table.
pub async fn table(root: &Path, runs: usize) -> String {
    rlimit::increase_nofile_limit(u64::MAX).expect("raise the open-file limit (the tools inherit it)");
    let peer_dir = root.join("bench/peers/serverless-offline");
    peers::install_serverless_offline(&peer_dir);
    let mut tools = Vec::new();
    for (name, served) in [
        ("ftb-offline", peers::start_ftb_offline(root).await),
        ("serverless-offline 13", peers::start_serverless_offline(&peer_dir, &[]).await),
    ] {
        let host = format!("127.0.0.1:{}", served.websocket_port.expect("both tools have a WebSocket API"));
        println!("{name}: WebSocket API on {host}, connecting {CLIENTS} clients");
        let (clients, ids) = connect_clients(&host, CLIENTS).await;
        tools.push(Connected { name, served, host, clients, ids, times: Vec::new() });
    }
    for run in 0..=runs {
        for focused in 0..tools.len() {
            // The other tool is paused meanwhile, as in the peers section.
            tools.iter().enumerate().for_each(|(index, tool)| tool.served.pause(index != focused));
            let tool = &mut tools[focused];
            let clients = std::mem::take(&mut tool.clients);
            let (elapsed, clients) = fan_out(clients, &tool.ids, &tool.host).await;
            tool.clients = clients;
            if run > 0 {
                tool.times.push(elapsed);
            }
        }
    }
    tools.iter().for_each(|tool| tool.served.pause(false));
    render(&tools, runs)
}

/// Opens `count` clients, `CONNECTING_AT_ONCE` at a time, each with its connection id.
async fn connect_clients(host: &str, count: usize) -> (Vec<Client>, Vec<String>) {
    let url = format!("ws://{host}");
    let mut clients = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    while clients.len() < count {
        let batch = (0..CONNECTING_AT_ONCE.min(count - clients.len())).map(|_| connect_one(&url));
        for (client, id) in futures_util::future::join_all(batch).await {
            clients.push(client);
            ids.push(id);
        }
    }
    (clients, ids)
}

/// Connects, asks `whoami` and returns the client with its connection id (retrying while the tool starts its
/// WebSocket server).
async fn connect_one(url: &str) -> (Client, String) {
    let started = Instant::now();
    let mut client = loop {
        match tokio_tungstenite::connect_async(url).await {
            Ok((client, _)) => break client,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(err) => panic!("no WebSocket connection to {url}: {err}"),
        }
    };
    client.send(Message::Text(r#"{"action":"whoami"}"#.into())).await.expect("send whoami");
    let reply = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(message) = client.next().await {
            if let Message::Text(text) = message.expect("a WebSocket frame") {
                return text.to_string();
            }
        }
        panic!("{url} closed the connection before answering whoami");
    });
    let id = reply.await.unwrap_or_else(|_| panic!("{url} did not answer whoami within 30 s"));
    (client, id)
}

/// One fan-out: every client waits for a message, then each id gets one PostToConnection.
async fn fan_out(clients: Vec<Client>, ids: &[String], host: &str) -> (Duration, Vec<Client>) {
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                while let Some(Ok(message)) = client.next().await {
                    if matches!(message, Message::Text(_)) {
                        break;
                    }
                }
                client
            })
        })
        .collect();
    let started = Instant::now();
    let shares: Vec<Vec<String>> =
        (0..POSTING_CONNECTIONS).map(|i| ids.iter().skip(i).step_by(POSTING_CONNECTIONS).cloned().collect()).collect();
    let posters: Vec<_> = shares.into_iter().map(|share| tokio::spawn(post_all(host.to_string(), share))).collect();
    for poster in posters {
        poster.await.expect("poster");
    }
    let mut clients = Vec::with_capacity(readers.len());
    for reader in readers {
        clients.push(reader.await.expect("reader"));
    }
    (started.elapsed(), clients)
}

/// PostToConnection (`POST /@connections/{id}`, which both tools serve on their WebSocket port) to each id.
async fn post_all(host: String, ids: Vec<String>) {
    let stream = tokio::net::TcpStream::connect(&host).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    for id in ids {
        let path = format!("/@connections/{}", percent_encode(&id));
        let request = hyper::Request::post(path)
            .header("host", &host)
            .body(Full::new(Bytes::from_static(b"{\"event\":\"fan-out\"}")))
            .unwrap();
        let response = sender.send_request(request).await.expect("PostToConnection");
        assert!(response.status().is_success(), "PostToConnection answered {}", response.status());
        response.into_body().collect().await.expect("body");
    }
}

fn percent_encode(id: &str) -> String {
    id.replace('=', "%3D")
}

/// A row per figure, a column per tool; serverless-offline's figures with their ratio to ftb-offline's.
fn render(tools: &[Connected], runs: usize) -> String {
    let median = |tool: &Connected| cli::median(tool.times.clone());
    let figures: Vec<(Duration, f64)> =
        tools.iter().map(|t| (median(t), peers::group_resident_mib(t.served.child.id()))).collect();
    for (tool, (time, mib)) in tools.iter().zip(&figures) {
        println!("fan-out to {CLIENTS} connections, {}: median {} ms, {mib:.1} MiB", tool.name, time.as_millis());
    }
    let (ours_time, ours_mib) = figures[0];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = |d: Duration| CLIENTS as f64 / d.as_secs_f64();
    let mut out = String::from("| figure |");
    for tool in tools {
        out.push_str(&format!(" {} |", tool.name));
    }
    out.push_str(" cargo lambda watch |\n|---|---|---|---|\n");
    let rows: [(String, &dyn Fn(Duration, f64) -> f64, &str, bool); 3] = [
        (
            format!("{CLIENTS} PostToConnection → every client has its message (median of {runs})"),
            &|t, _| ms(t),
            "ms",
            true,
        ),
        ("messages/s".into(), &|t, _| rate(t), "msg/s", false),
        (format!("resident memory holding {CLIENTS} connections (with handlers)"), &|_, m| m, "MiB", true),
    ];
    for (figure, value, unit, lower_is_better) in rows {
        let ours = value(ours_time, ours_mib);
        let (theirs_time, theirs_mib) = figures[1];
        let theirs = value(theirs_time, theirs_mib);
        out.push_str(&format!(
            "| {figure} | **{} {unit}** | {} {unit} ({:.1}×) | no WebSocket API |\n",
            peers::number(ours),
            peers::number(theirs),
            peers::lead(ours, theirs, lower_is_better)
        ));
    }
    out
}
