//! WebSocket fan-out: the time from the first PostToConnection to the moment every one of N connected clients
//! has received its message, with the posts sent over 32 keep-alive connections as a backend would.

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const POSTING_CONNECTIONS: usize = 32;

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `count` clients and returns them once the emulator lists them all.
pub async fn connect_clients(emulator: &ftb_offline::Emulator, count: usize) -> Vec<Client> {
    let url = emulator.endpoints().websocket_url();
    let mut clients = Vec::with_capacity(count);
    while clients.len() < count {
        let batch = (0..100.min(count - clients.len())).map(|_| tokio_tungstenite::connect_async(url.clone()));
        for result in futures_util::future::join_all(batch).await {
            clients.push(result.expect("a WebSocket connection").0);
        }
    }
    while emulator.websocket_connection_ids().len() < count {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    clients
}

/// One fan-out: every client waits for a message, then each id gets one PostToConnection.
pub async fn fan_out(clients: Vec<Client>, ids: &[String], host: &str) -> (Duration, Vec<Client>) {
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

async fn post_all(host: String, ids: Vec<String>) {
    let stream = tokio::net::TcpStream::connect(&host).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    for id in ids {
        let path = format!("/dev/@connections/{}", percent_encode(&id));
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
