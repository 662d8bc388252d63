//! WebSocket fan-out on ftb-offline and on serverless-offline, each run as its own process: 1,000 clients
//! connect and learn their connection id from the `whoami` route (its route response), then a backend sends each
//! one message with PostToConnection over 32 keep-alive connections. The figure runs from the first post until
//! every client has its message; the fan-outs of the two tools are interleaved, the other tool paused. cargo
//! lambda watch has no WebSocket API. A tool that cannot start, or whose clients cannot connect, is shown as such.

use crate::tools::{self, Served};
use crate::{cli, figures};
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
    let mut connected = Vec::new();
    let mut failures = Vec::new();
    for (name, served) in [
        ("ftb-offline", tools::start_ftb_offline(root, tools::CONCURRENCY).await),
        ("serverless-offline 13", tools::start_serverless_offline(&peer_dir, &[]).await),
    ] {
        match connect(name, served).await {
            Ok(tool) => connected.push(tool),
            Err(reason) => {
                println!("{name} could not start: {reason}");
                failures.push((name, reason));
            }
        }
    }
    fan_out_in_turn(&mut connected, runs).await;
    render(&connected, &failures, runs)
}

/// The tool with its clients connected, or why it has none.
async fn connect(name: &'static str, served: Result<Served, String>) -> Result<Connected, String> {
    let served = served?;
    let host = format!("127.0.0.1:{}", served.websocket_port.ok_or("no WebSocket API")?);
    println!("{name}: WebSocket API on {host}, connecting {CLIENTS} clients");
    let (clients, ids) = connect_clients(&host, CLIENTS).await?;
    Ok(Connected { name, served, host, clients, ids, times: Vec::new() })
}

/// A warm-up fan-out and `runs` measured ones on each tool in turn, the others paused.
async fn fan_out_in_turn(tools: &mut [Connected], runs: usize) {
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
}

/// Opens `count` clients, `CONNECTING_AT_ONCE` at a time, each with its connection id.
async fn connect_clients(host: &str, count: usize) -> Result<(Vec<Client>, Vec<String>), String> {
    let url = format!("ws://{host}");
    let mut clients = Vec::with_capacity(count);
    let mut ids = Vec::with_capacity(count);
    while clients.len() < count {
        let batch = (0..CONNECTING_AT_ONCE.min(count - clients.len())).map(|_| connect_one(&url));
        for connected in futures_util::future::join_all(batch).await {
            let (client, id) = connected?;
            clients.push(client);
            ids.push(id);
        }
    }
    Ok((clients, ids))
}

/// Connects, asks `whoami` and returns the client with its connection id (retrying while the tool starts its
/// WebSocket server).
async fn connect_one(url: &str) -> Result<(Client, String), String> {
    let started = Instant::now();
    let mut client = loop {
        match tokio_tungstenite::connect_async(url).await {
            Ok((client, _)) => break client,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(err) => return Err(format!("no WebSocket connection to {url}: {err}")),
        }
    };
    let whoami = Message::Text(r#"{"action":"whoami"}"#.into());
    client.send(whoami).await.map_err(|err| format!("sending whoami: {err}"))?;
    let reply = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(message) = client.next().await {
            match message {
                Ok(Message::Text(text)) => return Ok(text.to_string()),
                Ok(_) => {}
                Err(err) => return Err(format!("reading whoami's answer: {err}")),
            }
        }
        Err(format!("{url} closed the connection before answering whoami"))
    });
    let id = reply.await.map_err(|_| format!("{url} did not answer whoami within 30 s"))??;
    Ok((client, id))
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

/// The tools of the table, in its column order.
const COLUMNS: [&str; 2] = ["ftb-offline", "serverless-offline 13"];

/// A row's figure from a tool's median fan-out time and its resident memory (MiB).
type Figure<'a> = &'a dyn Fn(Duration, f64) -> f64;

/// A row per figure, a column per tool; serverless-offline's figures with their ratio to ftb-offline's. A tool in
/// `failures` says why in its column.
fn render(connected: &[Connected], failures: &[(&str, String)], runs: usize) -> String {
    // (median time, memory) of each column, or why there is none.
    let reason = |name: &str| failures.iter().find(|(failed, _)| *failed == name).map(|(_, r)| r.clone());
    let figures: Vec<Result<(Duration, f64), String>> = COLUMNS
        .iter()
        .map(|name| match connected.iter().find(|tool| tool.name == *name) {
            Some(tool) => Ok((cli::median(tool.times.clone()), tools::group_resident_mib(tool.served.pid()))),
            None => Err(reason(name).unwrap_or_default()),
        })
        .collect();
    for (name, figure) in COLUMNS.iter().zip(&figures) {
        if let Ok((time, mib)) = figure {
            println!("fan-out to {CLIENTS} connections, {name}: median {} ms, {mib:.1} MiB", time.as_millis());
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = |d: Duration| CLIENTS as f64 / d.as_secs_f64();
    let mut out = String::from("| figure |");
    for name in COLUMNS {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str(" cargo lambda watch |\n|---|---|---|---|\n");
    let rows: [(String, Figure, &str, bool); 3] = [
        (
            format!("{CLIENTS} PostToConnection → every client has its message (median of {runs})"),
            &|t, _| ms(t),
            "ms",
            true,
        ),
        ("messages/s".into(), &|t, _| rate(t), "msg/s", false),
        (format!("resident memory holding {CLIENTS} connections (with handlers)"), &|_, m| m, "MiB", true),
    ];
    for (row, (figure, value, unit, lower_is_better)) in rows.into_iter().enumerate() {
        let of = |column: usize| figures[column].as_ref().ok().map(|(time, mib)| value(*time, *mib));
        let ours = match (&figures[0], of(0)) {
            (_, Some(ours)) => format!("**{} {unit}**", figures::number(ours)),
            (Err(reason), None) if row == 0 => format!("could not start: {reason}"),
            _ => "–".into(),
        };
        let theirs = match (&figures[1], of(1)) {
            (_, Some(theirs)) => {
                let ratio = of(0).map(|ours| format!(" ({:.1}×)", figures::lead(ours, theirs, lower_is_better)));
                format!("{} {unit}{}", figures::number(theirs), ratio.unwrap_or_default())
            }
            (Err(reason), None) if row == 0 => format!("could not start: {reason}"),
            _ => "–".into(),
        };
        out.push_str(&format!("| {figure} | {ours} | {theirs} | no WebSocket API |\n"));
    }
    out
}
