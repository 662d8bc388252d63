//! Launch and memory: `ftb-offline start --no-build` on the benchmark service (binaries built first), from
//! running the command to its `ready:` line, and the emulator's resident memory idle and after a burst of
//! requests (the handler processes are separate and not counted). If it cannot start, the table gives the reason.

use crate::cli::{self, median};
use std::path::Path;
use std::time::Duration;

const RUNS: usize = 5;
const BURST: Duration = Duration::from_secs(3);

/// The figures of the table.
struct Launch {
    launch: Duration,
    idle_mib: f64,
    invocations: u64,
    loaded_mib: f64,
}

pub async fn table(root: &Path) -> String {
    let header = format!(
        "| `ftb-offline start` → ready (median of {RUNS}) | emulator memory, idle | after {} s of invocations, 32 at a time |\n|---|---|---|\n",
        BURST.as_secs()
    );
    match measure(root).await {
        Ok(figures) => {
            println!(
                "launch {} ms, memory idle {:.1} MiB, after {} invocations {:.1} MiB",
                figures.launch.as_millis(),
                figures.idle_mib,
                figures.invocations,
                figures.loaded_mib
            );
            format!(
                "{header}| {} ms | {:.1} MiB | {:.1} MiB ({} invocations) |\n",
                figures.launch.as_millis(),
                figures.idle_mib,
                figures.loaded_mib,
                figures.invocations
            )
        }
        Err(reason) => {
            println!("ftb-offline could not start: {reason}");
            format!("{header}| could not start: {reason} | – | – |\n")
        }
    }
}

async fn measure(root: &Path) -> Result<Launch, String> {
    let binary = cli::release_binary(root);
    // `--no-build --release` runs the handlers built here.
    cli::build_bench_handlers(root);
    let config = root.join("bench/serverless.yml");
    let config = config.display().to_string();
    let out = std::env::temp_dir().join(format!("ftb-bench-launch-{}.csv", std::process::id()));
    let param = format!("benchOut={}", out.display());
    // A fixed Lambda port, free again after each run, so the burst knows where to go.
    let lambda_port = cli::free_port().to_string();
    let args = [
        "start",
        "--no-console",
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
        "--s3-port",
        "0",
    ];
    drop(cli::start_until_ready(&binary, root, &args)?); // warms the page cache
    let mut launches = Vec::new();
    for _ in 0..RUNS {
        launches.push(cli::start_until_ready(&binary, root, &args)?.ready_after);
    }
    let running = cli::start_until_ready(&binary, root, &args)?;
    let idle_mib = cli::resident_mib(running.pid());
    let invocations = burst(lambda_port.parse().unwrap()).await;
    let loaded_mib = cli::resident_mib(running.pid());
    drop(running);
    let _ = std::fs::remove_file(&out);
    Ok(Launch { launch: median(launches), idle_mib, invocations, loaded_mib })
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
