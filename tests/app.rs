//! The Fault Tolerant App end to end, started the way a user starts it (`ftb-offline start:with-db` on the
//! repository's serverless.yml, with DynamoDB Local in Docker), driven over HTTP and a real WebSocket client.
//! Each test runs its own stage, so its own tables, queues and database container, on free ports.

use ftb_offline_tests::app::*;
use ftb_offline_tests::{dynamodb_client, repo_root, run_browser_script};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_submitted_task_turns_success_over_the_websocket() {
    let app = App::start(&stage("e2eok"), &["failureRate=0"]);
    let mut socket = app.connect().await;
    socket.send(Message::text(r#"{"action":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut socket, Duration::from_secs(20)).await, json!({"type": "pong"}));

    let response = app.submit(json!({"answer": "42", "ignored": [1, 2]})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["access-control-allow-origin"], ALLOWED_ORIGIN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Task received");
    let task_id = body["taskId"].as_str().expect("a generated taskId").to_string();

    let pushes = pushes_until_final(&mut socket, &task_id).await;
    assert_eq!(pushes.last().unwrap(), &json!({"taskId": task_id, "status": "success", "retries": 0}));
    let tasks = app.tasks().await;
    let task = tasks.iter().find(|t| t["taskId"] == task_id.as_str()).expect("GET /tasks lists it");
    assert_eq!(
        (task["status"].as_str(), task["answer"].as_str(), task["retries"].as_u64()),
        (Some("success"), Some("42"), Some(0))
    );
    assert_eq!(task["errorMessage"], Value::Null);

    // The same taskId again: refused, and the task is not reset.
    let again = app.submit(json!({"taskId": task_id, "answer": "other"})).await;
    assert_eq!(again.status(), 409);
    let tasks = app.tasks().await;
    let task = tasks.iter().find(|t| t["taskId"] == task_id.as_str()).unwrap();
    assert_eq!((task["status"].as_str(), task["answer"].as_str()), (Some("success"), Some("42")));

    // Malformed input: a clear 400, never a 502.
    for bad in [r#"{"answer": 42}"#, "{not json", ""] {
        let response = reqwest::Client::new().post(app.tasks_url()).body(bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
}

#[tokio::test]
async fn cors_preflight_passes_for_the_frontend_origin_only() {
    let app = App::start(&stage("e2ecors"), &[]);
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, app.tasks_url())
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight(ALLOWED_ORIGIN).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()["access-control-allow-origin"], ALLOWED_ORIGIN);
    let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_string();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");

    let refused = preflight("http://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none(), "{:?}", refused.headers());
    let listed =
        reqwest::Client::new().get(app.tasks_url()).header("Origin", "http://evil.example").send().await.unwrap();
    assert!(listed.headers().get("access-control-allow-origin").is_none(), "the function allows only CORS_ORIGINS");
}

#[tokio::test]
async fn a_task_that_keeps_failing_lands_in_the_dlq_and_the_client_sees_error() {
    let app = App::start(&stage("e2efail"), &["failureRate=1", RETRY_AFTER_3_S]);
    let mut socket = app.connect().await;
    let response = app.submit(json!({"taskId": "doomed", "answer": "never"})).await;
    assert_eq!(response.status(), 201);

    let pushes = pushes_until_final(&mut socket, "doomed").await;
    let retries: Vec<u64> = pushes.iter().map(|p| p["retries"].as_u64().unwrap()).collect();
    assert_eq!(retries, [1, 2, 3, 3], "three attempts (maxReceiveCount), then the DLQ: {pushes:?}");
    assert_eq!(
        pushes.last().unwrap(),
        &json!({"taskId": "doomed", "status": "error", "retries": 3, "errorMessage": "Simulated failure on attempt 3"})
    );
    drop(socket);

    // After a restart (the database keeps running), a task that succeeds; GET lists both, newest first.
    let restarted = app.restart(&["failureRate=0"]);
    let mut socket = restarted.connect().await;
    assert_eq!(restarted.submit(json!({"taskId": "lucky"})).await.status(), 201);
    let pushes = pushes_until_final(&mut socket, "lucky").await;
    assert_eq!(pushes.last().unwrap()["status"], "success");
    let tasks = restarted.tasks().await;
    let listed: Vec<(&str, &str)> =
        tasks.iter().map(|t| (t["taskId"].as_str().unwrap(), t["status"].as_str().unwrap())).collect();
    assert_eq!(listed, [("lucky", "success"), ("doomed", "error")]);
}

#[tokio::test]
async fn headless_chromium_submits_a_task_in_the_dashboard_and_sees_it_turn_success() {
    let ui = StaticServer::start(&repo_root().join("examples/dashboard"));
    // The page's origin is the one the stage allows, as http://localhost:4200 is for dev.
    let cors = format!("corsOrigin={}", ui.origin);
    let app = App::start(&stage("e2eui"), &["failureRate=0", &cors]);
    let page = format!("{}/?api={}/{}&ws={}", ui.origin, app.http, app.stage, app.websocket);
    let screenshot = repo_root().join("target/dashboard.png");
    let args = [page.as_ref(), "from the browser".as_ref(), screenshot.as_os_str()];
    let seen = run_browser_script("dashboard.mjs", &args).await;
    let row: Vec<&str> = seen["row"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(&row[1..4], ["from the browser", "success", "0"], "{row:?}");
    let listed = app.tasks().await;
    assert!(listed.iter().any(|t| t["taskId"] == seen["taskId"] && t["status"] == "success"), "{listed:?}");
}

#[tokio::test]
async fn seeding_puts_the_dashboards_demo_rows_from_serverless_yml() {
    let app = App::start_with(&stage("e2eseed"), &[], &["--seed"]);
    let tasks: Value = reqwest::get(app.tasks_url()).await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = tasks.as_array().unwrap().iter().filter_map(|t| t["taskId"].as_str()).collect();
    assert_eq!(
        ids,
        ["demo-3", "demo-2", "demo-1"],
        "custom.dynamodb.seed's rows, newest first as GET /tasks lists them"
    );
    assert_eq!(tasks[0]["status"], "error");
}

/// The sweeper and the stats (issue #24, item 4): a task left pending with no message behind it (as after a lost
/// message) is queued again by `sweepTasks` and processed; `taskStats` counts it from the tasks table's stream, and
/// `GET /stats` serves the counts.
#[tokio::test]
async fn the_sweeper_requeues_a_stuck_task_and_the_stream_counts_outcomes() {
    let params = ["failureRate=0", "stuckAfterSeconds=0", "sweepSchedule=rate(1 day)"];
    let app = App::start(&stage("e2esweep"), &params);
    let stats_url = format!("{}/{}/stats", app.http, app.stage);
    let stats = || async { reqwest::get(&stats_url).await.unwrap().json::<Value>().await.unwrap() };
    assert_eq!(stats().await, json!({"submitted": 0, "success": 0, "error": 0}));

    let table = format!("fault-tolerant-app-backend-tasks-{}", app.stage);
    let item = [("taskId", "stuck-1"), ("status", "pending"), ("createdAt", "2026-01-01T00:00:00.000Z")];
    let mut put = dynamodb_client(&app.dynamodb).put_item().table_name(&table);
    for (name, value) in item {
        put = put.item(name, aws_sdk_dynamodb::types::AttributeValue::S(value.into()));
    }
    put = put.item("retries", aws_sdk_dynamodb::types::AttributeValue::N("0".into()));
    put.send().await.unwrap();

    let swept = app.trigger("sweepTasks").await;
    assert_eq!(swept, json!({"requeued": ["stuck-1"]}));
    let mut finished = false;
    for _ in 0..150 {
        if app.tasks().await.iter().any(|t| t["taskId"] == "stuck-1" && t["status"] == "success") {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(finished, "the swept task was processed: {:?}", app.tasks().await);
    let again = app.trigger("sweepTasks").await;
    assert_eq!(again, json!({"requeued": []}), "a final task is not swept");

    let submitted = app.submit(json!({"taskId": "fresh-1", "answer": "42"})).await;
    assert_eq!(submitted.status(), 201);
    let mut counted = Value::Null;
    for _ in 0..150 {
        counted = stats().await;
        if counted == json!({"submitted": 2, "success": 2, "error": 0}) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(counted, json!({"submitted": 2, "success": 2, "error": 0}), "both tasks, from the stream");
}
