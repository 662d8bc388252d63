//! ftb-offline beside its peers on the same route in the same run: `POST /hello`, answered
//! - by a plain hyper server in-process doing the handler's work (one loopback exchange, no handler process);
//! - by the process model's limit (`limit.rs`): the least any tool can do to run bench-hello as processes;
//! - by ftb-offline's HTTP API route with bench-hello (bench/hello), the Rust handler;
//! - by `cargo lambda watch` with the same bench-hello crate, on its function URL route;
//! - by serverless-offline 13 (the last line for Serverless Framework v3) with bench-hello's Node.js twin
//!   (bench/peers/serverless-offline/handler.js).
//!
//! The tools run as users run them, as their own processes (`tools.rs`): latency, mean latency, requests/s and
//! wrk's errors at 1 and 32 connections (wrk, the runs of all interleaved), launch to the first 200, and resident
//! memory idle and after the load. A tool that cannot start is shown as such in its column.

use crate::figures::{lead, micros, number};
use crate::limit;
use crate::load::{Stats, Target, CONTRADICTION_NOTE};
use crate::tools::{self, group_resident_mib, Served, CONCURRENCY};
use std::path::Path;
use std::time::Duration;

const HYPER: &str = "hyper in-process";
const OURS: &str = "ftb-offline";

/// The figures of one tool (the in-process hyper server has no launch time or memory of its own).
pub struct Figures {
    pub name: String,
    /// Per connection level; empty when the tool could not start.
    pub by_connections: Vec<(usize, Stats)>,
    pub launch: Option<Duration>,
    pub idle_mib: Option<f64>,
    pub loaded_mib: Option<f64>,
    /// Why the tool has no figures.
    pub could_not_start: Option<String>,
}

impl Figures {
    /// The figures at the `level`-th connection level (`crate::LEVELS`), if measured.
    pub fn at(&self, level: usize) -> Option<Stats> {
        self.by_connections.get(level).map(|(_, stats)| *stats)
    }

    fn failed(name: String, reason: &str) -> Figures {
        Figures {
            name,
            by_connections: Vec::new(),
            launch: None,
            idle_mib: None,
            loaded_mib: None,
            could_not_start: Some(reason.to_string()),
        }
    }
}

/// The peers table, the table of the handler's runtime, and the figures of the first (for the chart).
pub struct Tables {
    pub peers: String,
    pub handler_runtime: String,
    pub figures: Vec<Figures>,
}

/// One route measured: its name, its target, the tool serving it (None: the in-process hyper server) and
/// whether it is the tool's current-thread handler.
struct Route<'a> {
    name: String,
    target: &'a Target,
    tool: Option<usize>,
    current_thread: bool,
}

/// Starts every tool (one after the other, for the launch figure), then measures them with their runs
/// interleaved (hyper, limit, ftb-offline, cargo lambda watch, serverless-offline, then the two Rust tools on the
/// current-thread handler, then again), so a drift of the machine's speed during the run touches every tool alike.
/// While one tool is measured, the others are paused.
pub async fn table(root: &Path) -> Tables {
    let (_stop, hyper_addr) = crate::start_baseline().await;
    let hyper = Target { addr: hyper_addr, path: "/hello".into(), body: tools::body() };
    let peer_dir = root.join("bench/peers/serverless-offline");
    let mut started: Vec<(&str, Result<Served, String>)> = vec![
        (limit::NAME, limit::start(root, CONCURRENCY).await),
        (OURS, tools::start_ftb_offline(root, CONCURRENCY).await),
        ("cargo lambda watch", tools::start_cargo_lambda_watch(root, CONCURRENCY).await),
        ("serverless-offline 13", tools::start_serverless_offline(&peer_dir, &[]).await),
    ];
    for (name, served) in &started {
        if let Err(reason) = served {
            println!("{name} could not start: {reason}");
        }
    }
    let given = give_the_limit_the_route_event(&mut started).await;
    let idle: Vec<Option<f64>> =
        started.iter().map(|(_, served)| served.as_ref().ok().map(|s| group_resident_mib(s.pid()))).collect();
    let routes = all_routes(&hyper, &started);
    let stats = measure(&routes, &started).await;
    let route_figures = |index: usize| Figures {
        name: routes[index].name.clone(),
        by_connections: stats[index].clone(),
        launch: None,
        idle_mib: None,
        loaded_mib: None,
        could_not_start: None,
    };
    // The route of a started tool's bench-hello, or of its current-thread handler.
    let tool_route = |tool: usize, current_thread: bool| {
        let route = routes.iter().position(|r| r.tool == Some(tool) && r.current_thread == current_thread);
        route.expect("a started tool serves its routes")
    };
    let mut all = vec![route_figures(0)];
    for (index, (name, served)) in started.iter().enumerate() {
        all.push(match served {
            Ok(served) => Figures {
                launch: Some(served.launch_to_first_200),
                idle_mib: idle[index],
                loaded_mib: Some(group_resident_mib(served.pid())),
                ..route_figures(tool_route(index, false))
            },
            Err(reason) => Figures::failed(name.to_string(), reason),
        });
    }
    // ftb-offline and cargo lambda watch on the current-thread handler.
    let mut runtime = vec![route_figures(0)];
    for tool in [1, 2] {
        runtime.push(match &started[tool].1 {
            Ok(_) => route_figures(tool_route(tool, true)),
            Err(reason) => Figures::failed(format!("{}, current-thread handler", started[tool].0), reason),
        });
    }
    let mut peers = render(&all, 2);
    peers.push_str(&limit::summary(&all[2].by_connections, &all[1].by_connections, given));
    Tables { peers, handler_runtime: render(&runtime, 1), figures: all }
}

/// Gives the limit's handler the event ftb-offline's route builds for the same request (as the http section does),
/// so that it parses what every tool's handler parses: the tools build an HTTP event, the limit passes on what it
/// is given. Says what the limit was given.
async fn give_the_limit_the_route_event(started: &mut [(&str, Result<Served, String>)]) -> &'static str {
    let Ok(ftb_offline) = &started[1].1 else { return "" };
    let limit_given = crate::overhead::route_event(&ftb_offline.target.addr, &tools::body()).await;
    if let Ok(limit) = &mut started[0].1 {
        limit.target.body = limit_given.body;
    }
    limit_given.given
}

/// Every route to measure: the hyper server's, then each tool's bench-hello, then the current-thread handlers.
fn all_routes<'a>(hyper: &'a Target, tools: &'a [(&str, Result<Served, String>)]) -> Vec<Route<'a>> {
    let mut routes = vec![Route { name: HYPER.into(), target: hyper, tool: None, current_thread: false }];
    for (index, (name, served)) in tools.iter().enumerate() {
        if let Ok(served) = served {
            let name = name.to_string();
            routes.push(Route { name, target: &served.target, tool: Some(index), current_thread: false });
        }
    }
    for (index, (name, served)) in tools.iter().enumerate() {
        if let Some(target) = served.as_ref().ok().and_then(|s| s.current_thread.as_ref()) {
            let name = format!("{name}, current-thread handler");
            routes.push(Route { name, target, tool: Some(index), current_thread: true });
        }
    }
    routes
}

/// The median figures of every route at each connection level, the runs interleaved, the tools not measured
/// paused.
async fn measure(routes: &[Route<'_>], tools: &[(&str, Result<Served, String>)]) -> Vec<Vec<(usize, Stats)>> {
    let targets: Vec<&Target> = routes.iter().map(|route| route.target).collect();
    let focus = |route: usize| {
        for (index, (_, served)) in tools.iter().enumerate() {
            if let Ok(served) = served {
                served.pause(routes[route].tool != Some(index));
            }
        }
    };
    let mut stats: Vec<Vec<(usize, Stats)>> = vec![Vec::new(); routes.len()];
    for connections in crate::LEVELS {
        for (route, median) in crate::interleaved_medians(&targets, connections, &focus).await.into_iter().enumerate() {
            println!("{connections:>2} conn  {:<42} {median}", routes[route].name);
            stats[route].push((connections, median));
        }
    }
    tools.iter().filter_map(|(_, served)| served.as_ref().ok()).for_each(|served| served.pause(false));
    stats
}

/// One row per figure, one column per tool, and each other tool's figure as a ratio to `all[ours]`'s (`×`): above
/// 1 means that one is ahead (faster, smaller), for requests/s as well (its ÷ the other's). A tool that could not
/// start says so in its column; a figure flagged by `Stats::contradicts_throughput` carries "⚠" and a note.
fn render(all: &[Figures], ours: usize) -> String {
    let mut table = Table { all, ours, out: String::new(), reason_shown: false, flagged: false };
    table.header();
    for (level, connections) in crate::LEVELS.iter().enumerate() {
        let plural = if *connections == 1 { "" } else { "s" };
        let name = |figure: &str| format!("{figure}, {connections} connection{plural}");
        let at = move |f: &Figures| f.at(level);
        let flag = move |f: &Figures| at(f).is_some_and(|s| s.contradicts_throughput());
        let micros_of = |figure: fn(&Stats) -> Duration| move |f: &Figures| at(f).map(|s| micros(figure(&s)));
        table.row(&name("p50 latency"), &micros_of(|s| s.p50), "µs", true, &flag);
        table.row(&name("p99 latency"), &micros_of(|s| s.p99), "µs", true, &flag);
        table.row(&name("mean latency"), &micros_of(|s| s.mean), "µs", true, &flag);
        let rate = move |f: &Figures| at(f).map(|s| s.requests_per_second);
        table.row(&name("requests/s"), &rate, "req/s", false, &|_| false);
        let errors = move |f: &Figures| at(f).map(|s| s.errors());
        table.text_row(&name("wrk timeouts / socket errors / non-2xx"), &errors);
    }
    table.row("launch → first 200", &|f| f.launch.map(|d| d.as_secs_f64() * 1000.0), "ms", true, &|_| false);
    table.row("resident memory, idle (with handlers)", &|f| f.idle_mib, "MiB", true, &|_| false);
    table.row("resident memory, after the load", &|f| f.loaded_mib, "MiB", true, &|_| false);
    if table.flagged {
        table.out.push_str(&format!("\n{CONTRADICTION_NOTE}\n"));
    }
    table.out
}

/// A table being written: the tools as columns.
struct Table<'a> {
    all: &'a [Figures],
    ours: usize,
    out: String,
    /// Whether the reason of a tool that could not start is shown already (in the first row).
    reason_shown: bool,
    flagged: bool,
}

impl Table<'_> {
    fn header(&mut self) {
        self.out.push_str("| figure |");
        for tool in self.all {
            self.out.push_str(&format!(" {} |", tool.name));
        }
        self.out.push('\n');
        self.out.push_str(&"|---".repeat(self.all.len() + 1));
        self.out.push_str("|\n");
    }

    /// A row of numbers in `unit`, each with its ratio to ours; none when no tool has the figure.
    fn row(
        &mut self,
        figure: &str,
        value: &dyn Fn(&Figures) -> Option<f64>,
        unit: &str,
        lower_is_better: bool,
        flag: &dyn Fn(&Figures) -> bool,
    ) {
        let (all, ours) = (self.all, self.ours);
        let mine = value(&all[ours]);
        let mut flagged = false;
        let cells: Vec<Option<String>> = all
            .iter()
            .enumerate()
            .map(|(index, tool)| {
                let v = value(tool)?;
                flagged |= flag(tool);
                let mark = if flag(tool) { " ⚠" } else { "" };
                if index == ours {
                    return Some(format!("**{} {unit}**{mark}", number(v)));
                }
                let ratio = mine.map(|mine| format!(" ({:.1}×)", lead(mine, v, lower_is_better))).unwrap_or_default();
                Some(format!("{} {unit}{ratio}{mark}", number(v)))
            })
            .collect();
        self.flagged |= flagged;
        self.cells(figure, cells);
    }

    /// A row of text, as it is.
    fn text_row(&mut self, figure: &str, value: &dyn Fn(&Figures) -> Option<String>) {
        let cells = self.all.iter().map(value).collect();
        self.cells(figure, cells);
    }

    /// Writes a row (none when every cell is empty): "could not start: …" in the first row for a tool that
    /// could not, "–" for any other missing figure.
    fn cells(&mut self, figure: &str, cells: Vec<Option<String>>) {
        if cells.iter().all(Option::is_none) {
            return;
        }
        self.out.push_str(&format!("| {figure} |"));
        for (tool, cell) in self.all.iter().zip(cells) {
            let cell = match (cell, &tool.could_not_start) {
                (Some(cell), _) => cell,
                (None, Some(reason)) if !self.reason_shown => format!("could not start: {reason}"),
                (None, _) => "–".into(),
            };
            self.out.push_str(&format!(" {cell} |"));
        }
        self.out.push('\n');
        self.reason_shown = true;
    }
}
