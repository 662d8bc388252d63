//! Launch and memory: `ftb-offline start --no-build` on the benchmark service (binaries already built), from
//! running the command to its `ready:` line, and the emulator's resident memory idle and after a burst of
//! requests (the handler processes are separate and not counted).

use crate::cli::{self, median};
use std::path::Path;

const RUNS: usize = 5;
const BURST: std::time::Duration = std::time::Duration::from_secs(3);

pub async fn table(root: &Path) -> String {
    let binary = cli::release_binary(root);
    let config = root.join("bench/serverless.yml");
    let config = config.display().to_string();
    let out = std::env::temp_dir().join(format!("ftb-bench-launch-{}.csv", std::process::id()));
    let param = format!("benchOut={}", out.display());
    // A fixed Lambda port, free again after each run, so the burst knows where to go.
    let lambda_port = cli::free_port().to_string();
    // The handlers in release, as the emulator runs them with --release.
    let args = [
        "start",
        "--no-build",
        "--release",
        "--no-watch",
        "-c",
        &config,
        "--param",
        &param,
        "--http-port",
        "0",
        "--websocket-port",
        "0",
        "--lambda-port",
        &lambda_port,
    ];
    let _ = cli::start_until_ready(&binary, root, &args); // warms the page cache
    let mut launches = Vec::new();
    for _ in 0..RUNS {
        launches.push(cli::start_until_ready(&binary, root, &args).ready_after);
    }
    let launch = median(launches);
    let running = cli::start_until_ready(&binary, root, &args);
    let idle = cli::resident_mib(running.pid());
    let invocations = burst(lambda_port.parse().unwrap()).await;
    let loaded = cli::resident_mib(running.pid());
    drop(running);
    let _ = std::fs::remove_file(&out);
    println!(
        "launch {} ms, memory idle {idle:.1} MiB, after {invocations} invocations {loaded:.1} MiB",
        launch.as_millis()
    );
    format!(
        "| `ftb-offline start` → ready (median of {RUNS}) | emulator memory, idle | after {} s of invocations, 32 at a time ({invocations}) |\n|---|---|---|\n| {} ms | {idle:.1} MiB | {loaded:.1} MiB |\n",
        BURST.as_secs(),
        launch.as_millis()
    )
}

/// Invokes for `BURST` on 32 connections; returns how many invocations ran.
async fn burst(port: u16) -> u64 {
    let target = crate::load::Target {
        addr: format!("http://127.0.0.1:{port}"),
        path: "/2015-03-31/functions/hello/invocations".into(),
        body: bytes::Bytes::from_static(br#"{"n":1}"#),
    };
    crate::load::measure(&target, 32, BURST).await.requests
}
