//! The load generator: wrk (Debian's `wrk`, installed by scripts/bench), N keep-alive connections on one wrk
//! thread for a fixed time, POSTing a JSON body. A Lua `done` hook prints the exact latency percentiles, the mean
//! and the error counts. Errors do not stop the benchmark: timeouts, socket errors and non-2xx answers are counted
//! in the figures, and a run whose percentiles contradict its throughput is flagged (wrk leaves the requests it
//! timed out of its latency figures).

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

/// wrk's figures of one run, or the median of several (see `Stats::median`).
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
    pub requests_per_second: f64,
    pub requests: u64,
    pub connections: usize,
    /// Requests wrk gave up on after its timeout; they are missing from the latency figures.
    pub timeouts: u64,
    /// Connect, read and write errors.
    pub socket_errors: u64,
    /// Answers other than 2xx and 3xx.
    pub non_2xx: u64,
}

/// The note under a table with a flagged row.
pub const CONTRADICTION_NOTE: &str =
    "⚠ percentiles contradict throughput: wrk dropped timed-out requests (connections ÷ requests/s is well above p99, or far from the mean latency).";

impl Stats {
    /// The median run by each figure; the error counts are the sums over the runs, so none is hidden.
    pub fn median(runs: Vec<Stats>) -> Stats {
        let mid = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let duration = |figure: fn(&Stats) -> Duration| {
            Duration::from_secs_f64(mid(runs.iter().map(|r| figure(r).as_secs_f64()).collect()))
        };
        Stats {
            p50: duration(|r| r.p50),
            p99: duration(|r| r.p99),
            mean: duration(|r| r.mean),
            requests_per_second: mid(runs.iter().map(|r| r.requests_per_second).collect()),
            requests: mid(runs.iter().map(|r| r.requests as f64).collect()) as u64,
            connections: runs[0].connections,
            timeouts: runs.iter().map(|r| r.timeouts).sum(),
            socket_errors: runs.iter().map(|r| r.socket_errors).sum(),
            non_2xx: runs.iter().map(|r| r.non_2xx).sum(),
        }
    }

    /// The mean time in seconds a request held its connection, from the throughput (Little's law): connections ÷
    /// requests/s (infinite when nothing was answered).
    pub fn seconds_per_request(&self) -> f64 {
        self.connections as f64 / self.requests_per_second
    }

    /// Whether the percentiles contradict the throughput: the time per request is more than 1.5× p99, or more
    /// than 2× away from the mean latency. wrk leaves timed-out requests out of its latency figures, so such a
    /// run's percentiles describe only the requests that were answered.
    pub fn contradicts_throughput(&self) -> bool {
        let per_request = self.seconds_per_request();
        let (p99, mean) = (self.p99.as_secs_f64(), self.mean.as_secs_f64());
        let apart = |a: f64, b: f64| a > 2.0 * b || b > 2.0 * a;
        per_request > 1.5 * p99 || mean <= 0.0 || apart(per_request, mean)
    }

    /// `p50 / p99` in µs, with "⚠" when the row is flagged.
    pub fn percentiles(&self) -> String {
        let flag = if self.contradicts_throughput() { " ⚠" } else { "" };
        format!("{} µs / {} µs{flag}", self.p50.as_micros(), self.p99.as_micros())
    }

    /// `timeouts / socket errors / non-2xx`.
    pub fn errors(&self) -> String {
        format!("{} / {} / {}", self.timeouts, self.socket_errors, self.non_2xx)
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:>6} µs  p99 {:>6} µs  mean {:>6} µs  {:>8.0} req/s  timeouts {} errors {} non-2xx {}{}",
            self.p50.as_micros(),
            self.p99.as_micros(),
            self.mean.as_micros(),
            self.requests_per_second,
            self.timeouts,
            self.socket_errors,
            self.non_2xx,
            if self.contradicts_throughput() { "  ⚠ percentiles contradict throughput" } else { "" }
        )
    }
}

/// The Lua script: the method, body and content type of every request, and a `done` hook printing one line
/// `ftb-wrk <p50 µs> <p99 µs> <mean µs> <requests> <duration µs> <connect> <read> <write> <timeout> <non-2xx>`.
fn script(target: &Target) -> String {
    let body = String::from_utf8_lossy(&target.body).replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ftb-wrk %d %d %.1f %d %d %d %d %d %d %d\n", latency:percentile(50), latency:percentile(99),
    latency.mean, summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status))
end
"#
    )
}

/// One wrk run of `duration` (whole seconds, as wrk takes it) on `connections` connections. Panics only when wrk
/// itself cannot run; what the target does wrong is counted in the figures.
pub async fn measure(target: &Target, connections: usize, duration: Duration) -> Stats {
    let script_path = std::env::temp_dir().join(format!("ftb-bench-{}.lua", std::process::id()));
    std::fs::write(&script_path, script(target)).expect("write the wrk script");
    let url = format!("{}{}", target.addr, target.path);
    let output = tokio::process::Command::new("wrk")
        .args(["-t1", "-c", &connections.to_string(), "-d", &format!("{}s", duration.as_secs().max(1))])
        .args(["--timeout", "10s", "-s"])
        .arg(&script_path)
        .arg(&url)
        .kill_on_drop(true)
        .output()
        .await
        .expect("wrk runs (scripts/bench installs it: apt-get install wrk)");
    let _ = std::fs::remove_file(&script_path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed on {url}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let line =
        stdout.lines().find_map(|l| l.strip_prefix("ftb-wrk ")).unwrap_or_else(|| panic!("wrk output: {stdout}"));
    parse(line, connections).unwrap_or_else(|| panic!("wrk figures: {line}"))
}

/// The figures of the `done` hook's line.
fn parse(line: &str, connections: usize) -> Option<Stats> {
    let numbers: Vec<f64> = line.split_whitespace().map(|n| n.parse().ok()).collect::<Option<_>>()?;
    let [p50, p99, mean, requests, micros, connect, read, write, timeout, non_2xx] = numbers[..] else { return None };
    Some(Stats {
        p50: Duration::from_micros(p50 as u64),
        p99: Duration::from_micros(p99 as u64),
        mean: Duration::from_secs_f64(mean.max(0.0) / 1e6),
        requests_per_second: requests / (micros.max(1.0) / 1e6),
        requests: requests as u64,
        connections,
        timeouts: timeout as u64,
        socket_errors: (connect + read + write) as u64,
        non_2xx: non_2xx as u64,
    })
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
    post(host, path, Bytes::from_static(b"{}")).await.and_then(|body| serde_json::from_slice(&body).ok())
}

/// One POST of `body` (JSON) to `path` at `host` on a new connection, with the headers wrk sends (host, content
/// type and length): the body of a 2xx answer, or None.
pub async fn post(host: &str, path: &str, body: Bytes) -> Option<Bytes> {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap();
    let response = sender.send_request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    Some(response.into_body().collect().await.ok()?.to_bytes())
}
