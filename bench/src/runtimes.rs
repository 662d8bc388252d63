//! Node.js and Python handlers on ftb-offline beside serverless-offline 13, both running the same serverless.yml
//! and handlers (bench/peers/serverless-offline: `handler.js`, `handler_py.py`): requests/s and p50 latency at 1
//! and 32 connections on the Node.js route and on the Python route (wrk, the runs of both tools interleaved, the
//! other tool paused), the first request to a function no request reached yet (cold start; median of three
//! launches), and resident memory with the handler processes after the load.

use crate::load::{Stats, Target};
use crate::peers::{self, lead, number, Served};
use crate::{cli, LEVELS};
use bytes::Bytes;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Launches of each tool for the cold-start figures.
const LAUNCHES: usize = 3;
const NODE_ROUTE: &str = "/hello";
const PYTHON_ROUTE: &str = "/hello-python";
const COLD_ROUTES: [&str; 2] = ["/cold-node", "/cold-python"];

/// The figures of one tool.
struct Figures {
    /// Per route (Node.js, Python), per connection level.
    routes: [Vec<Stats>; 2],
    /// Median first-request time of a Node.js and a Python function.
    cold: [Duration; 2],
    loaded_mib: f64,
}

pub async fn table(root: &Path) -> String {
    let peer_dir = root.join("bench/peers/serverless-offline");
    peers::install_serverless_offline(&peer_dir);
    let binary = cli::release_binary(root);
    let mut cold = [Vec::new(), Vec::new()];
    for _ in 0..LAUNCHES {
        for (tool, served) in [start_ftb_offline(&binary, &peer_dir).await, start_serverless_offline(&peer_dir).await]
            .into_iter()
            .enumerate()
        {
            cold[tool].push(first_requests(&served).await);
        }
    }
    let served = [start_ftb_offline(&binary, &peer_dir).await, start_serverless_offline(&peer_dir).await];
    let routes: Vec<(Target, usize)> = [NODE_ROUTE, PYTHON_ROUTE]
        .iter()
        .flat_map(|route| served.iter().enumerate().map(move |(tool, s)| (route_of(s, route), tool)))
        .collect();
    let targets: Vec<&Target> = routes.iter().map(|(target, _)| target).collect();
    let focus = |index: usize| {
        for (tool, s) in served.iter().enumerate() {
            s.pause(routes[index].1 != tool);
        }
    };
    let mut stats = vec![Vec::new(); targets.len()];
    for connections in LEVELS {
        for (index, median) in crate::interleaved_medians(&targets, connections, &focus).await.into_iter().enumerate() {
            println!("{connections:>2} conn  {:<14} {:<28} {median}", targets[index].path, tool_name(routes[index].1));
            stats[index].push(median);
        }
    }
    served.iter().for_each(|s| s.pause(false));
    let figures: Vec<Figures> = (0..2)
        .map(|tool| Figures {
            routes: [stats[tool].clone(), stats[2 + tool].clone()],
            cold: [
                median(cold[tool].iter().map(|c| c[0]).collect()),
                median(cold[tool].iter().map(|c| c[1]).collect()),
            ],
            loaded_mib: peers::group_resident_mib(served[tool].child.id()),
        })
        .collect();
    render(&figures)
}

fn tool_name(tool: usize) -> &'static str {
    ["ftb-offline", "serverless-offline 13"][tool]
}

/// ftb-offline on the peer's serverless.yml, as a user runs it (its own process, release build).
async fn start_ftb_offline(binary: &Path, peer_dir: &Path) -> Served {
    let (port, websocket_port) = (cli::free_port(), cli::free_port());
    let mut command = Command::new(binary);
    command
        .current_dir(peer_dir)
        .args(["start", "--no-watch", "--max-concurrency", "10"])
        .args(["--http-port", &port.to_string(), "--websocket-port", &websocket_port.to_string()])
        .args(["--lambda-port", "0"]);
    peers::serve(command, port, NODE_ROUTE, Some(websocket_port)).await
}

async fn start_serverless_offline(peer_dir: &Path) -> Served {
    peers::start_serverless_offline(peer_dir, &[]).await
}

fn route_of(served: &Served, path: &str) -> Target {
    Target { addr: served.target.addr.clone(), path: path.into(), body: Bytes::from_static(br#"{"n":42}"#) }
}

/// The time of the first request to the Node.js and to the Python function nothing has called yet.
async fn first_requests(served: &Served) -> [Duration; 2] {
    let mut times = [Duration::ZERO; 2];
    for (time, route) in times.iter_mut().zip(COLD_ROUTES) {
        let target = route_of(served, route);
        let started = Instant::now();
        assert!(crate::load::answers_ok(&target).await, "{route} answers 200");
        *time = started.elapsed();
    }
    times
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// One row per figure; serverless-offline's figure with its ratio to ftb-offline's (above 1: ftb-offline ahead).
fn render(figures: &[Figures]) -> String {
    let mut out = String::from("| figure | ftb-offline | serverless-offline 13 |\n|---|---|---|\n");
    let mut row = |figure: String, ours: f64, theirs: f64, unit: &str, lower_is_better: bool| {
        let ratio = lead(ours, theirs, lower_is_better);
        out.push_str(&format!(
            "| {figure} | **{} {unit}** | {} {unit} ({ratio:.1}×) |\n",
            number(ours),
            number(theirs)
        ));
    };
    for (route, language) in ["Node.js", "Python"].iter().enumerate() {
        for (level, connections) in LEVELS.iter().enumerate() {
            let stat = |tool: usize| figures[tool].routes[route][level];
            let plural = if *connections == 1 { "" } else { "s" };
            let (ours, theirs) = (stat(0), stat(1));
            row(
                format!("{language} route, requests/s, {connections} connection{plural}"),
                ours.requests_per_second,
                theirs.requests_per_second,
                "req/s",
                false,
            );
            row(
                format!("{language} route, p50 latency, {connections} connection{plural}"),
                peers::micros(ours.p50),
                peers::micros(theirs.p50),
                "µs",
                true,
            );
        }
    }
    for (index, language) in ["Node.js", "Python"].iter().enumerate() {
        let ms = |tool: usize| figures[tool].cold[index].as_secs_f64() * 1000.0;
        row(
            format!("first request to a {language} function (cold start, median of {LAUNCHES})"),
            ms(0),
            ms(1),
            "ms",
            true,
        );
    }
    row(
        "resident memory after the load, with handler processes".into(),
        figures[0].loaded_mib,
        figures[1].loaded_mib,
        "MiB",
        true,
    );
    out
}
