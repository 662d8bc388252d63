//! Load on the emulator running as its own process (so its memory is its own): sustained HTTP load through a
//! handler with no failed request and flat memory, and thousands of WebSocket connections held at once, each
//! still answered. CI runs a bounded size; `FTB_SOAK_REQUESTS` and `FTB_SOAK_CONNECTIONS` make it a soak
//! (docs/RELIABILITY.md has the last results).

use ftb_offline::procfs::resident_mib;
use ftb_offline_tests::*;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// `ftb-offline start` on the HTTP fixtures (built by the test command), on free ports.
fn start_emulator() -> (CliProcess, ReadyLine) {
    let config = repo_root().join("tests/fixtures/http.yml");
    let mut args = vec!["--config", config.to_str().unwrap(), "start", "--no-build", "--no-watch"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(&repo_root(), &args, &[("FTB_LOG", "warn,ftb_offline=info")]);
    let ready = process.wait_until_ready(Duration::from_secs(60));
    (process, ready)
}

/// `total` GETs over `connections` keep-alive connections; returns the failures.
async fn load(url: &str, connections: usize, total: usize) -> Vec<String> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (client, next, url) = (client.clone(), next.clone(), url.to_string());
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < total {
                match client.get(&url).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                    }
                    Ok(response) => failures.push(format!("status {}", response.status())),
                    Err(err) => failures.push(err.to_string()),
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.unwrap());
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_http_load_has_no_failed_request_and_flat_memory() {
    let per_round = from_env("FTB_SOAK_REQUESTS", 20_000) / 4;
    let (process, ready) = start_emulator();
    let url = format!("{}/dev/web/load", ready.address("HTTP API on "));
    // Warm-up: processes started, buffers and pools at their working size.
    let failures = load(&url, 32, 2_000).await;
    assert!(
        failures.is_empty(),
        "{} warm-up requests failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let mut resident = Vec::new();
    let started = Instant::now();
    for _ in 0..4 {
        let failures = load(&url, 32, per_round).await;
        assert!(
            failures.is_empty(),
            "{} of {per_round} requests failed: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        resident.push(resident_mib(process.pid()).unwrap());
    }
    let rate = (4 * per_round) as f64 / started.elapsed().as_secs_f64();
    println!("load: {} requests over 32 connections at {rate:.0}/s, none failed; emulator resident MiB after each quarter: {resident:.1?}", 4 * per_round);
    let growth = resident[3] - resident[0];
    assert!(growth < 4.0, "memory kept growing under steady load: {resident:?} MiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_websocket_connections_are_held_and_each_is_answered() {
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let count = from_env("FTB_SOAK_CONNECTIONS", 3_000);
    let (process, ready) = start_emulator();
    let url = ready.address("WebSocket API on ");
    let idle = resident_mib(process.pid()).unwrap();
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        let (client, _) = tokio_tungstenite::connect_async(&url).await.expect("the connection is accepted");
        clients.push(client);
    }
    let held = resident_mib(process.pid()).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Without a $default route API Gateway answers every message with Forbidden: each connection still works.
    let answered = futures_util::future::join_all(clients.iter_mut().map(|client| async move {
        client.send(Message::text("{}")).await.ok()?;
        let reply = tokio::time::timeout(Duration::from_secs(30), client.next()).await.ok()??.ok()?;
        reply.to_text().ok().map(|text| text.contains("Forbidden"))
    }))
    .await;
    let ok = answered.iter().filter(|a| **a == Some(true)).count();
    println!("load: {count} WebSocket connections held and answered; emulator resident {idle:.1} MiB idle, {held:.1} MiB holding them");
    assert_eq!(ok, count, "every held connection was answered");
    let per_connection_kib = (held - idle) * 1024.0 / count as f64;
    assert!(per_connection_kib < 32.0, "an open connection costs {per_connection_kib:.0} KiB of the emulator's memory");
}
