//! The console section: what the web console costs the invocations it watches (issue #26). Three emulators of
//! bench/serverless.yml in-process (release handlers, 32 processes at most): one without a console, one with its
//! console on and one client reading its live feed the whole time, as an open console page does, and a second one
//! without a console, the control: the difference between the two alike is the noise the console's difference is
//! read against. Their Invoke APIs are measured in interleaved runs at each connection level.

use crate::load::{Stats, Target};
use crate::LEVELS;
use bytes::Bytes;
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub async fn table(root: &Path) -> String {
    let without = start(root, None).await;
    let with = start(root, Some(0)).await;
    let control = start(root, None).await;
    let console = with.console_url().expect("the console runs").trim_start_matches("http://").to_string();
    let events = Arc::new(AtomicU64::new(0));
    let watcher = tokio::spawn(watch(console, events.clone()));
    let body = Bytes::from_static(br#"{"n":42,"text":"benchmark"}"#);
    let target = |emulator: &ftb_offline::Emulator| Target {
        addr: emulator.endpoints().lambda_url(),
        path: "/2015-03-31/functions/hello/invocations".into(),
        body: body.clone(),
    };
    let (plain, watched, alike) = (target(&without), target(&with), target(&control));
    let mut out = String::from(
        "| connections | emulator | p50 / p99 | mean | requests/s | wrk timeouts / socket errors / non-2xx |\n|---|---|---|---|---|---|\n",
    );
    for connections in LEVELS {
        let medians = crate::interleaved_medians(&[&plain, &watched, &alike], connections, &|_| {}).await;
        let labels = ["no console", "console on, one page watching live", "no console (the control)"];
        for (label, stats) in labels.iter().zip(&medians) {
            println!("{connections:>2} conn  {label} {stats}");
            out.push_str(&row(connections, label, stats));
        }
        for (label, other) in [("console on − no console", &medians[1]), ("control − no console (noise)", &medians[2])]
        {
            let change = |f: fn(&Stats) -> f64| (f(other) / f(&medians[0]) - 1.0) * 100.0;
            out.push_str(&format!(
                "| {connections} | {label} | {:+.1} % at p50 | | {:+.1} % | |\n",
                change(|s| s.p50.as_secs_f64()),
                change(|s| s.requests_per_second),
            ));
        }
    }
    watcher.abort();
    out.push_str(&format!(
        "\nThe watching client received {} live events (one per invocation, and the counts every second).\n",
        events.load(Ordering::Relaxed)
    ));
    for emulator in [with, without, control] {
        emulator.stop().await;
    }
    out
}

fn row(connections: usize, label: &str, stats: &Stats) -> String {
    format!(
        "| {connections} | {label} | {} | {} µs | {:.0} | {} |\n",
        stats.percentiles(),
        stats.mean.as_micros(),
        stats.requests_per_second,
        stats.errors()
    )
}

async fn start(root: &Path, console_port: Option<u16>) -> ftb_offline::Emulator {
    let mut options = ftb_offline::EmulatorOptions::new(root.join("bench/serverless.yml"));
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.console_port = console_port;
    options.build = BuildMode::Build { release: true };
    options.max_concurrency = 32;
    ftb_offline::Emulator::start(options).await.expect("the emulator starts")
}

/// Reads the console's live feed as a page's EventSource does, counting the events, until aborted.
async fn watch(console: String, events: Arc<AtomicU64>) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(&console).await else { return };
    let request = format!("GET /api/live HTTP/1.1\r\nHost: {console}\r\nAccept: text/event-stream\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 {
            return;
        }
        let seen = buffer[..read].windows(7).filter(|w| w == b"event: ").count();
        events.fetch_add(seen as u64, Ordering::Relaxed);
    }
}
