//! Node.js and Python handlers on ftb-offline beside serverless-offline 13, both running the same serverless.yml
//! and handlers (bench/peers/serverless-offline: `handler.js`, `handler_py.py`): requests/s and p50 latency at 1
//! and 32 connections on the Node.js route and on the Python route (wrk, the runs of both tools interleaved, the
//! other tool paused), the first request to a function no request reached yet (cold start; median of three
//! launches), and resident memory with the handler processes after the load. A tool that cannot start, or whose
//! cold route does not answer, is shown as such in its column.

use crate::figures::{self, lead, number};
use crate::load::{Stats, Target, CONTRADICTION_NOTE};
use crate::tools::{self, Served};
use crate::{cli, LEVELS};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Launches of each tool for the cold-start figures.
const LAUNCHES: usize = 3;
const NODE_ROUTE: &str = "/hello";
const PYTHON_ROUTE: &str = "/hello-python";
const COLD_ROUTES: [&str; 2] = ["/cold-node", "/cold-python"];
const TOOLS: [&str; 2] = ["ftb-offline", "serverless-offline 13"];
/// How long the first request to a function may take.
const COLD_LIMIT: Duration = Duration::from_secs(60);

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
    let binary = cli::release_binary(root);
    let cold = cold_starts(&binary, &peer_dir).await;
    let served = [start(0, &binary, &peer_dir).await, start(1, &binary, &peer_dir).await];
    let stats = measure(&served).await;
    let figures_of = |tool: usize| -> Result<Figures, String> {
        let cold = cold[tool].clone()?;
        let served = served[tool].as_ref().map_err(|reason| format!("could not start: {reason}"))?;
        Ok(Figures {
            routes: stats[tool].clone(),
            cold: [cli::median(cold.iter().map(|c| c[0]).collect()), cli::median(cold.iter().map(|c| c[1]).collect())],
            loaded_mib: tools::group_resident_mib(served.pid()),
        })
    };
    render(&[figures_of(0), figures_of(1)])
}

/// `LAUNCHES` launches of each tool, timing the first request to a Node.js and a Python function each time; a
/// tool's first failure ends its launches.
async fn cold_starts(binary: &Path, peer_dir: &Path) -> [Result<Vec<[Duration; 2]>, String>; 2] {
    let mut cold = [Ok(Vec::new()), Ok(Vec::new())];
    for _ in 0..LAUNCHES {
        for (tool, times) in cold.iter_mut().enumerate() {
            let Ok(list) = times else { continue };
            let launched = match start(tool, binary, peer_dir).await {
                Ok(served) => first_requests(&served).await,
                Err(reason) => Err(format!("could not start: {reason}")),
            };
            match launched {
                Ok(time) => list.push(time),
                Err(reason) => *times = Err(reason),
            }
        }
    }
    cold
}

/// The medians of each tool (that started) on each route at each connection level: `[tool][route][level]`.
async fn measure(served: &[Result<Served, String>; 2]) -> [[Vec<Stats>; 2]; 2] {
    let routes: Vec<(Target, usize, usize)> = [NODE_ROUTE, PYTHON_ROUTE]
        .iter()
        .enumerate()
        .flat_map(move |(route, path)| {
            served.iter().enumerate().filter_map(move |(tool, s)| Some((s.as_ref().ok()?.route(path), tool, route)))
        })
        .collect();
    let targets: Vec<&Target> = routes.iter().map(|(target, _, _)| target).collect();
    let focus = |index: usize| {
        for (tool, s) in served.iter().enumerate() {
            if let Ok(s) = s {
                s.pause(routes[index].1 != tool);
            }
        }
    };
    let mut stats: [[Vec<Stats>; 2]; 2] = Default::default();
    for connections in LEVELS {
        for (index, median) in crate::interleaved_medians(&targets, connections, &focus).await.into_iter().enumerate() {
            let (target, tool, route) = &routes[index];
            println!("{connections:>2} conn  {:<14} {:<28} {median}", target.path, TOOLS[*tool]);
            stats[*tool][*route].push(median);
        }
    }
    served.iter().flatten().for_each(|s| s.pause(false));
    stats
}

async fn start(tool: usize, binary: &Path, peer_dir: &Path) -> Result<Served, String> {
    match tool {
        0 => start_ftb_offline(binary, peer_dir).await,
        _ => tools::start_serverless_offline(peer_dir, &[]).await,
    }
}

/// ftb-offline on the peer's serverless.yml, as a user runs it (its own process, release build).
async fn start_ftb_offline(binary: &Path, peer_dir: &Path) -> Result<Served, String> {
    let (port, websocket_port) = (cli::free_port(), cli::free_port());
    let mut command = Command::new(binary);
    command
        .current_dir(peer_dir)
        .args(["start", "--no-console", "--no-watch", "--max-concurrency", "10"])
        .args(["--http-port", &port.to_string(), "--websocket-port", &websocket_port.to_string()])
        .args(["--lambda-port", "0", "--s3-port", "0"]);
    tools::serve(command, port, NODE_ROUTE, Some(websocket_port)).await
}

/// The time of the first request to the Node.js and to the Python function nothing has called yet.
async fn first_requests(served: &Served) -> Result<[Duration; 2], String> {
    let mut times = [Duration::ZERO; 2];
    for (time, route) in times.iter_mut().zip(COLD_ROUTES) {
        let target = served.route(route);
        let started = Instant::now();
        let answered = tokio::time::timeout(COLD_LIMIT, crate::load::answers_ok(&target)).await;
        if !matches!(answered, Ok(true)) {
            return Err(format!("the first request to {route} did not answer 200"));
        }
        *time = started.elapsed();
    }
    Ok(times)
}

/// One row per figure; serverless-offline's figure with its ratio to ftb-offline's (above 1: ftb-offline ahead).
/// A tool without figures gives its reason in the first row.
fn render(figures: &[Result<Figures, String>]) -> String {
    let mut out = format!("| figure | {} | {} |\n|---|---|---|\n", TOOLS[0], TOOLS[1]);
    let mut first_row = true;
    let mut flagged = false;
    let mut row = |figure: String, value: &dyn Fn(&Figures) -> f64, unit: &str, lower_is_better: bool, flag: bool| {
        let ours = figures[0].as_ref().ok().map(value);
        let mark = if flag { " ⚠" } else { "" };
        let cells: Vec<String> = figures
            .iter()
            .enumerate()
            .map(|(tool, f)| match f {
                Ok(f) if tool == 0 => format!("**{} {unit}**{mark}", number(value(f))),
                Ok(f) => {
                    let ratio = ours.map(|o| format!(" ({:.1}×)", lead(o, value(f), lower_is_better)));
                    format!("{} {unit}{}{mark}", number(value(f)), ratio.unwrap_or_default())
                }
                Err(reason) if first_row => reason.clone(),
                Err(_) => "–".into(),
            })
            .collect();
        first_row = false;
        out.push_str(&format!("| {figure} | {} |\n", cells.join(" | ")));
    };
    for (route, language) in ["Node.js", "Python"].iter().enumerate() {
        for (level, connections) in LEVELS.iter().enumerate() {
            let plural = if *connections == 1 { "" } else { "s" };
            let stat = |f: &Figures| f.routes[route][level];
            let contradicts = figures.iter().flatten().any(|f| stat(f).contradicts_throughput());
            flagged |= contradicts;
            row(
                format!("{language} route, requests/s, {connections} connection{plural}"),
                &|f| stat(f).requests_per_second,
                "req/s",
                false,
                false,
            );
            row(
                format!("{language} route, p50 latency, {connections} connection{plural}"),
                &|f| figures::micros(stat(f).p50),
                "µs",
                true,
                contradicts,
            );
        }
    }
    for (index, language) in ["Node.js", "Python"].iter().enumerate() {
        row(
            format!("first request to a {language} function (cold start, median of {LAUNCHES})"),
            &|f| f.cold[index].as_secs_f64() * 1000.0,
            "ms",
            true,
            false,
        );
    }
    row("resident memory after the load, with handler processes".into(), &|f| f.loaded_mib, "MiB", true, false);
    out.push_str(&errors_row(figures));
    if flagged {
        out.push_str(&format!("\n{CONTRADICTION_NOTE}\n"));
    }
    out
}

/// wrk's timeouts, socket errors and non-2xx answers of each tool, summed over both routes, both levels and every
/// run.
fn errors_row(figures: &[Result<Figures, String>]) -> String {
    let cells: Vec<String> = figures
        .iter()
        .map(|f| match f {
            Ok(f) => {
                let all = f.routes.iter().flatten();
                let sum = |count: fn(&Stats) -> u64| all.clone().map(count).sum::<u64>();
                format!("{} / {} / {}", sum(|s| s.timeouts), sum(|s| s.socket_errors), sum(|s| s.non_2xx))
            }
            Err(_) => "–".into(),
        })
        .collect();
    format!("| wrk timeouts / socket errors / non-2xx, all routes and runs | {} |\n", cells.join(" | "))
}
