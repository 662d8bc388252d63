//! The Fault Tolerant App's Node.js twin (`examples/node-app`: Node.js handlers on AWS SDK v3, a Python
//! dead-letter handler on boto3) end to end, started as a user starts it (`ftb-offline start:with-db` in its
//! folder), driven over HTTP, a real WebSocket client and headless Chromium, exactly as `tests/app.rs` drives
//! the Rust app.

use ftb_offline_tests::app::*;
use ftb_offline_tests::{repo_root, run_browser_script};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn node_app() -> PathBuf {
    repo_root().join("examples/node-app")
}

#[tokio::test]
async fn node_app_tasks_turn_success_over_the_websocket_and_in_the_dashboard() {
    let ui = StaticServer::start(&repo_root().join("examples/dashboard"));
    let cors = format!("corsOrigin={}", ui.origin);
    let app = App::start_in(&node_app(), &stage("nodeok"), &["failureRate=0", &cors], &[]);
    let mut socket = app.connect().await;
    socket.send(Message::text(r#"{"action":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut socket, Duration::from_secs(20)).await, json!({"type": "pong"}));

    let response = reqwest::Client::new()
        .post(app.tasks_url())
        .header("Origin", &ui.origin)
        .json(&json!({"answer": "42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["access-control-allow-origin"], ui.origin.as_str());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Task received");
    let task_id = body["taskId"].as_str().expect("a generated taskId").to_string();
    let pushes = pushes_until_final(&mut socket, &task_id).await;
    assert_eq!(pushes.last().unwrap(), &json!({"taskId": task_id, "status": "success", "retries": 0}));
    let tasks = app.tasks().await;
    let task = tasks.iter().find(|t| t["taskId"] == task_id.as_str()).expect("GET /tasks lists it");
    assert_eq!((task["status"].as_str(), task["answer"].as_str()), (Some("success"), Some("42")));

    let again = app.submit(json!({"taskId": task_id, "answer": "other"})).await;
    assert_eq!(again.status(), 409, "the same taskId is refused");
    for bad in [r#"{"answer": 42}"#, "{not json", ""] {
        let response = reqwest::Client::new().post(app.tasks_url()).body(bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
    }

    // The example dashboard, unchanged, in headless Chromium.
    let page = format!("{}/?api={}/{}&ws={}", ui.origin, app.http, app.stage, app.websocket);
    let screenshot = repo_root().join("target/dashboard-node-app.png");
    let args = [page.as_ref(), "from the browser".as_ref(), screenshot.as_os_str()];
    let seen = run_browser_script("dashboard.mjs", &args).await;
    let row: Vec<&str> = seen["row"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(&row[1..4], ["from the browser", "success", "0"], "{row:?}");
}

#[tokio::test]
async fn node_app_failing_tasks_reach_the_python_dlq_handler_and_the_client_sees_error() {
    let app = App::start_in(&node_app(), &stage("nodefail"), &["failureRate=1", RETRY_AFTER_3_S], &[]);
    let mut socket = app.connect().await;
    assert_eq!(app.submit(json!({"taskId": "doomed", "answer": "never"})).await.status(), 201);
    let pushes = pushes_until_final(&mut socket, "doomed").await;
    let retries: Vec<u64> = pushes.iter().map(|p| p["retries"].as_u64().unwrap()).collect();
    assert_eq!(retries, [1, 2, 3, 3], "three attempts (maxReceiveCount), then the DLQ: {pushes:?}");
    assert_eq!(
        pushes.last().unwrap(),
        &json!({"taskId": "doomed", "status": "error", "retries": 3, "errorMessage": "Simulated failure on attempt 3"})
    );
    let tasks = app.tasks().await;
    let task = tasks.iter().find(|t| t["taskId"] == "doomed").expect("GET /tasks lists it");
    assert_eq!(task["status"], "error", "the Python handler wrote the final state: {task}");
}
