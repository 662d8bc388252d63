//! A small closed-loop load generator: N keep-alive connections, each sending its share of requests one after
//! another; latency per request and throughput over the whole run.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};

pub struct Target {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub path: String,
    pub body: Bytes,
}

#[derive(Clone, Copy)]
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub requests_per_second: f64,
}

impl Stats {
    /// The median run by each figure.
    pub fn median(runs: Vec<Stats>) -> Stats {
        let mid = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        Stats {
            p50: Duration::from_secs_f64(mid(runs.iter().map(|r| r.p50.as_secs_f64()).collect())),
            p99: Duration::from_secs_f64(mid(runs.iter().map(|r| r.p99.as_secs_f64()).collect())),
            requests_per_second: mid(runs.iter().map(|r| r.requests_per_second).collect()),
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:>6} µs  p99 {:>6} µs  {:>8.0} req/s",
            self.p50.as_micros(),
            self.p99.as_micros(),
            self.requests_per_second
        )
    }
}

pub async fn measure(target: &Target, connections: usize, total: usize) -> Stats {
    let host = target.addr.trim_start_matches("http://").to_string();
    let per_connection = total.div_ceil(connections);
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (host, path, body) = (host.clone(), target.path.clone(), target.body.clone());
            tokio::spawn(async move { connection_loop(&host, &path, body, per_connection).await })
        })
        .collect();
    let mut latencies = Vec::with_capacity(per_connection * connections);
    for task in tasks {
        latencies.extend(task.await.expect("load task"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Stats { p50: at(0.50), p99: at(0.99), requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64() }
}

/// Whether one request to `target` (on a new connection) answers 2xx; false on any error.
pub async fn answers_ok(target: &Target) -> bool {
    let host = target.addr.trim_start_matches("http://");
    let Ok(stream) = tokio::net::TcpStream::connect(host).await else { return false };
    let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
        return false;
    };
    tokio::spawn(connection);
    let request = hyper::Request::post(&target.path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(target.body.clone()))
        .unwrap();
    sender.send_request(request).await.is_ok_and(|response| response.status().is_success())
}

async fn connection_loop(host: &str, path: &str, body: Bytes, requests: usize) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let mut latencies = Vec::with_capacity(requests);
    for _ in 0..requests {
        let request = hyper::Request::post(path)
            .header("host", host)
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap();
        let started = Instant::now();
        let response = sender.send_request(request).await.expect("request");
        assert!(response.status().is_success(), "status {}", response.status());
        response.into_body().collect().await.expect("body");
        latencies.push(started.elapsed());
    }
    latencies
}
