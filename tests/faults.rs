//! Fault injection on the real app (`start:with-db --persist`): many tasks are submitted while processTask fails
//! at random, a third of its invocations time out, its processes are killed mid-invocation, the DynamoDB Local container is restarted, and the
//! emulator itself is killed (`kill -9`) and started again. Every task must still end `success` or `error`
//! (through the dead-letter queue): none lost, none stuck `pending`.
//!
//! CI runs it at 40 tasks. `FTB_SOAK_TASKS=1000 cargo nextest run --test faults --no-capture` is the long soak;
//! docs/RELIABILITY.md has its last results.

use ftb_offline_tests::app::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The pids of the emulator's handler processes running `binary`.
fn handler_processes(emulator: u32, binary: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else { continue };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
        let ppid = tail.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if comm == binary && ppid == Some(emulator) {
            pids.push(pid);
        }
    }
    pids
}

fn kill_9(pid: i32) -> bool {
    // SAFETY: kill(2) on a handler process our own emulator started.
    unsafe { libc::kill(pid, libc::SIGKILL) == 0 }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Submits `count` tasks; returns the ids the API acknowledged with 201.
async fn submit_tasks(app: &App, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let id = format!("{prefix}-{i}");
        let response = app.submit(json!({"taskId": id, "answer": i.to_string()})).await;
        assert_eq!(response.status(), 201, "task {id} is accepted");
        ids.push(id);
    }
    ids
}

/// Waits until every task in `ids` has a final status; returns each task's record.
async fn wait_until_final(app: &App, ids: &[String], limit: Duration) -> BTreeMap<String, Value> {
    let deadline = Instant::now() + limit;
    loop {
        let tasks: BTreeMap<String, Value> = match reqwest::get(app.tasks_url()).await {
            Ok(response) if response.status() == 200 => response
                .json::<Vec<Value>>()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t["taskId"].as_str().unwrap_or_default().to_string(), t))
                .collect(),
            _ => BTreeMap::new(),
        };
        let done =
            ids.iter().all(|id| tasks.get(id).is_some_and(|t| t["status"] == "success" || t["status"] == "error"));
        if done || Instant::now() > deadline {
            return tasks;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How many tasks are `pending` right now (asked until the database, maybe restarting, answers).
async fn pending(app: &App) -> usize {
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(app.tasks_url()).await {
            if response.status() == 200 {
                let tasks: Vec<Value> = response.json().await.unwrap_or_default();
                return tasks.iter().filter(|t| t["status"] == "pending").count();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("GET /tasks did not answer 200 within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_ends_success_or_error_through_failures_kills_and_restarts() {
    let total: usize = std::env::var("FTB_SOAK_TASKS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    // Work takes up to 1.5 s against a 1 s timeout: about a third of the attempts time out.
    let params = ["failureRate=0.3", "queueVisibilityTimeout=2", "workMaxMs=1500", "processTaskTimeout=1"];
    let db_port = free_port().to_string();
    let extra = ["--persist", "--db-port", db_port.as_str()];
    let stage = stage("faults");
    let mut app = App::start_with(&stage, &params, &extra);
    let started = Instant::now();
    let mut ids = Vec::new();
    let mut handler_kills = 0;
    let mut pending_at_kills = 0;
    let mut timeouts = 0;
    let count_timeouts = |lines: Vec<String>| lines.iter().filter(|l| l.contains("Task timed out")).count();
    let rounds = total.div_ceil(40);

    for round in 0..rounds {
        let batch = (total - ids.len()).min(40);
        ids.extend(submit_tasks(&app, &format!("r{round}"), batch).await);
        // Handler processes die mid-invocation.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            handler_kills +=
                handler_processes(app.pid(), "process-task").into_iter().filter(|pid| kill_9(*pid)).count();
        }
        // The database goes away for a moment and comes back with its data (a named volume).
        let container = format!("ftb-offline-dynamodb-fault-tolerant-app-backend-{stage}");
        let docker = bollard::Docker::connect_with_local_defaults().unwrap();
        docker
            .restart_container(
                &container,
                Some(bollard::query_parameters::RestartContainerOptions { t: Some(1), signal: None }),
            )
            .await
            .unwrap();
        // The emulator itself is killed and started again; the queues come back from .ftb-offline/.
        pending_at_kills += pending(&app).await;
        timeouts += count_timeouts(app.new_log_lines());
        app = app.crash_and_restart(&params);
    }

    let tasks = wait_until_final(&app, &ids, Duration::from_secs(120 + 2 * total as u64)).await;
    timeouts += count_timeouts(app.new_log_lines());
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for id in &ids {
        let status = tasks.get(id).map_or("missing".to_string(), |t| t["status"].as_str().unwrap_or("?").to_string());
        *by_status.entry(status).or_default() += 1;
    }
    println!(
        "faults: {} tasks in {:.0} s; {by_status:?}; {timeouts} invocations timed out, {handler_kills} handler processes killed, {rounds} database restarts, {rounds} emulator kills (with {pending_at_kills} tasks still pending)",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        by_status.get("success").copied().unwrap_or(0) + by_status.get("error").copied().unwrap_or(0),
        ids.len(),
        "every task ended success or error: {by_status:?}"
    );
    for task in tasks.values().filter(|t| t["status"] == "error") {
        assert!(task["errorMessage"].as_str().is_some_and(|m| !m.is_empty()), "a failed task says why: {task}");
    }
    assert!(by_status.get("success").copied().unwrap_or(0) > 0);
    assert!(timeouts > 0 && handler_kills > 0, "the faults were injected: {timeouts} timeouts, {handler_kills} kills");
}
