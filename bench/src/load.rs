//! The load generator: wrk (Debian's `wrk`, installed by scripts/bench), N keep-alive connections on one wrk
//! thread for a fixed time, POSTing a JSON body. A Lua `done` hook prints the exact latency percentiles and the
//! error counts, and a run with any error or non-2xx answer fails the benchmark.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::time::Duration;

pub struct Target {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub path: String,
    pub body: Bytes,
}

#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub requests_per_second: f64,
    pub requests: u64,
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
            requests: mid(runs.iter().map(|r| r.requests as f64).collect()) as u64,
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

/// The Lua script: the method, body and content type of every request, and a `done` hook printing one line
/// `ftb-wrk <p50 µs> <p99 µs> <requests> <duration µs> <errors> <non-2xx>`.
fn script(target: &Target) -> String {
    let body = String::from_utf8_lossy(&target.body).replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ftb-wrk %d %d %d %d %d %d\n", latency:percentile(50), latency:percentile(99),
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status))
end
"#
    )
}

/// One wrk run of `duration` (whole seconds, as wrk takes it) on `connections` connections.
pub async fn measure(target: &Target, connections: usize, duration: Duration) -> Stats {
    let script_path = std::env::temp_dir().join(format!("ftb-bench-{}.lua", std::process::id()));
    std::fs::write(&script_path, script(target)).expect("write the wrk script");
    let url = format!("{}{}", target.addr, target.path);
    let output = tokio::process::Command::new("wrk")
        .args(["-t1", "-c", &connections.to_string(), "-d", &format!("{}s", duration.as_secs().max(1))])
        .args(["--timeout", "10s", "-s"])
        .arg(&script_path)
        .arg(&url)
        .output()
        .await
        .expect("wrk runs (scripts/bench installs it: apt-get install wrk)");
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed on {url}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let line =
        stdout.lines().find_map(|l| l.strip_prefix("ftb-wrk ")).unwrap_or_else(|| panic!("wrk output: {stdout}"));
    let numbers: Vec<u64> = line.split_whitespace().map(|n| n.parse().expect("a wrk figure")).collect();
    let [p50, p99, requests, micros, errors, non_2xx] = numbers[..] else { panic!("wrk figures: {line}") };
    assert!(errors == 0 && non_2xx == 0, "{url}: {errors} socket errors and {non_2xx} non-2xx answers under load");
    Stats {
        p50: Duration::from_micros(p50),
        p99: Duration::from_micros(p99),
        requests_per_second: requests as f64 / (micros as f64 / 1e6),
        requests,
    }
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

/// One POST of `{}` to `path` at `host` (`127.0.0.1:PORT`) on a new connection: the JSON it answers with a 2xx,
/// or None.
pub async fn post_json(host: &str, path: &str) -> Option<serde_json::Value> {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = sender.send_request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = response.into_body().collect().await.ok()?.to_bytes();
    serde_json::from_slice(&body).ok()
}
