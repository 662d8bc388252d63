//! The web console (issue #26): headless Chromium drives it against the Fault Tolerant App run as a user runs it
//! (`start:with-db`, failureRate=1), and plain HTTP clients check who it refuses and that looking at a queue
//! changes nothing in it.

use ftb_offline_tests::app::*;
use ftb_offline_tests::fixtures::{aws_sample_event, queues_options, sqs_options, start};
use ftb_offline_tests::{repo_root, run_browser_script, sqs_client};
use serde_json::{json, Value};

/// Invocations run while the console page watches (issue #26: "the page stays live while 1,000 invocations run").
const WATCHED_INVOCATIONS: usize = 1000;

#[tokio::test]
async fn headless_chromium_follows_a_task_invokes_redrives_browses_and_stays_live() {
    let ui = StaticServer::start(&repo_root().join("examples/dashboard"));
    let cors = format!("corsOrigin={}", ui.origin);
    let app = App::start(&stage("e2econsole"), &["failureRate=1", RETRY_AFTER_3_S, &cors]);
    let dashboard = format!("{}/?api={}/{}&ws={}", ui.origin, app.http, app.stage, app.websocket);
    let screenshots = repo_root().join("target/console-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let plan = json!({
        "console": app.console,
        "dashboard": dashboard,
        "tasksUrl": app.tasks_url(),
        "lambda": app.lambda,
        "websocket": app.websocket,
        "dlq": format!("fault-tolerant-app-backend-tasks-dlq-{}", app.stage),
        "table": format!("fault-tolerant-app-backend-tasks-{}", app.stage),
        "invocations": WATCHED_INVOCATIONS,
        "screenshots": screenshots,
    });
    let seen = run_browser_script("console.mjs", &[plan.to_string().as_ref()]).await;

    // The task's story, in order: the HTTP request's invocation and its message, three failed attempts, the
    // dead-letter queue, its handler, and the pushes to the dashboard's WebSocket.
    let story: Vec<&str> = seen["story"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let position = |wanted: &str| story.iter().position(|step| step.contains(wanted));
    let submitted = position("submitTask ← REST API POST /tasks").unwrap_or_else(|| panic!("{story:#?}"));
    let sent = position("sent:").unwrap_or_else(|| panic!("{story:#?}"));
    let first_attempt = position("processTask ← queue").unwrap_or_else(|| panic!("{story:#?}"));
    let attempts = story.iter().filter(|s| s.contains("processTask ← queue") && s.contains("1 item failed")).count();
    let dead = position("dead-lettered").unwrap_or_else(|| panic!("{story:#?}"));
    let handled = position("dlqHandler ← queue").unwrap_or_else(|| panic!("{story:#?}"));
    let pushed = position("pushed").unwrap_or_else(|| panic!("{story:#?}"));
    assert!(submitted < sent && sent < first_attempt, "the request, its message, then the worker: {story:#?}");
    assert_eq!(attempts, 3, "maxReceiveCount attempts: {story:#?}");
    assert!(dead < handled, "{story:#?}");
    assert!(pushed > submitted, "{story:#?}");

    assert!(seen["invoked"].as_str().unwrap().starts_with("success"), "{}", seen["invoked"]);
    assert!(seen["errorDetail"].as_str().unwrap().contains("REPORT RequestId"), "{}", seen["errorDetail"]);

    assert!(seen["routes"].as_u64().unwrap() >= 5, "{seen}");
    assert_eq!(seen["disconnected"], true);

    // Both tasks' messages, in the order they were dead-lettered, which the order they were sent does not fix.
    let peeked = seen["peeked"].as_array().unwrap();
    assert_eq!(peeked.len(), 2, "{peeked:?}");
    assert!(peeked.iter().all(|message| message["state"] == "visible"), "{peeked:?}");
    for task in seen["failing"].as_array().unwrap() {
        let task = task.as_str().unwrap();
        assert!(peeked.iter().any(|m| m["body"].as_str().unwrap().contains(task)), "{task} in {peeked:?}");
    }
    assert_eq!(seen["peekedAgain"], json!(["visible", "visible"]), "peeking changes nothing");
    assert!(seen["moves"].as_str().unwrap().contains("COMPLETED, 2 of 2 moved"), "{}", seen["moves"]);

    assert!(seen["tableItems"].as_u64().unwrap() >= 3, "{seen}");
    assert_eq!(
        seen["liveInvocations"].as_u64().unwrap(),
        WATCHED_INVOCATIONS as u64,
        "each invocation seen live once: {seen}"
    );
    assert!(seen["liveAfter"].as_str().unwrap().contains("on"), "{seen}");
    assert!(seen["rows"].as_u64().unwrap() > 0);
}

/// An emulator started from `options` with its console on a free port, and the console's address.
async fn start_with_console(mut options: ftb_offline::EmulatorOptions) -> (ftb_offline::Emulator, String) {
    options.console_port = Some(0);
    let emulator = start(options).await;
    let console = emulator.console_url().expect("the console runs").to_string();
    (emulator, console)
}

/// The console's address with the token its page carries.
async fn page_token(client: &reqwest::Client, console: &str) -> String {
    let page = client.get(console).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("access-control-allow-origin").is_none(), "no CORS");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    let start = html.find(r#"name="console-token" content=""#).expect("the token's meta tag") + 30;
    html[start..start + 32].to_string()
}

#[tokio::test]
async fn the_console_refuses_foreign_hosts_origins_and_changes_without_its_token() {
    let (emulator, console) = start_with_console(queues_options()).await;
    let port = console.rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::new();
    let token = page_token(&client, &console).await;
    let overview = format!("{console}/api/overview");

    let refused = [
        ("host", format!("attacker.example:{port}")),
        ("origin", "http://evil.example".to_string()),
        ("sec-fetch-site", "cross-site".to_string()),
    ];
    for (header, value) in &refused {
        let response = client.get(&overview).header(*header, value).send().await.unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "Forbidden");
    }
    assert_eq!(client.get(&overview).send().await.unwrap().status(), 200);

    let send = format!("{console}/api/queues/tagged/send");
    let message = json!({ "body": "from the console" });
    let without_token = client.post(&send).json(&message).send().await.unwrap();
    assert_eq!(without_token.status(), 403, "a change needs the page's token");
    let foreign = client.post(&send).header("x-console-token", &token).header("origin", "http://evil.example");
    assert_eq!(foreign.json(&message).send().await.unwrap().status(), 403, "even with it, from another origin");
    let sent: Value = client
        .post(&send)
        .header("x-console-token", &token)
        .header("origin", &console)
        .json(&message)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message_id = sent["messageId"].as_str().unwrap_or_else(|| panic!("{sent}")).to_string();

    // Peeked twice, the message stays visible with no receive; the SDK's receive is then its first.
    for _ in 0..2 {
        let peeked: Value =
            client.get(format!("{console}/api/queues/tagged/messages")).send().await.unwrap().json().await.unwrap();
        assert_eq!(peeked["messages"][0]["messageId"], message_id.as_str());
        assert_eq!(peeked["messages"][0]["state"], "visible");
        assert_eq!(peeked["messages"][0]["receiveCount"], 0);
    }
    let sqs = sqs_client(&emulator);
    let url = sqs.get_queue_url().queue_name("tagged").send().await.unwrap().queue_url.unwrap();
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    let received = &received.messages.unwrap()[0];
    assert_eq!(received.body.as_deref(), Some("from the console"));
    let count = &received.attributes.as_ref().unwrap()
        [&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount];
    assert_eq!(count, "1");

    let story: Value =
        client.get(format!("{console}/api/story?id={message_id}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(story["entries"][0]["kind"], "messageSent", "{story}");
    assert_eq!(story["entries"][0]["queue"], "tagged");
    emulator.stop().await;
}

/// A mapping switched off from the console receives nothing (the message stays visible, never received); switched
/// on again, it takes the message.
#[tokio::test]
async fn a_mapping_switched_off_receives_nothing_until_it_is_switched_on() {
    let dir = tempfile::tempdir().unwrap();
    let (emulator, console) = start_with_console(sqs_options(dir.path())).await;
    let client = reqwest::Client::new();
    let token = page_token(&client, &console).await;
    let switch = |state: &'static str| {
        let (client, console, token) = (client.clone(), console.clone(), token.clone());
        async move {
            let url = format!("{console}/api/mappings/bulk/bulk-dev/{state}");
            let answer = client.post(url).header("x-console-token", token).send().await.unwrap();
            assert_eq!(answer.status(), 200, "{state}");
        }
    };
    let peek = || {
        let (client, console) = (client.clone(), console.clone());
        async move {
            let url = format!("{console}/api/queues/bulk-dev/messages");
            client.get(url).send().await.unwrap().json::<Value>().await.unwrap()["messages"].clone()
        }
    };
    switch("disable").await;
    let overview: Value = client.get(format!("{console}/api/overview")).send().await.unwrap().json().await.unwrap();
    let bulk = overview["queues"].as_array().unwrap().iter().find(|q| q["name"] == "bulk-dev").unwrap();
    assert_eq!(bulk["mappings"][0]["enabled"], false, "{bulk}");

    let sqs = sqs_client(&emulator);
    let url = sqs.get_queue_url().queue_name("bulk-dev").send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&url).message_body("held").send().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let held = peek().await;
    assert_eq!(held[0]["state"], "visible", "not received while switched off: {held}");
    assert_eq!(held[0]["receiveCount"], 0);

    switch("enable").await;
    let mut empty = false;
    for _ in 0..100 {
        if peek().await.as_array().unwrap().is_empty() {
            empty = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(empty, "the mapping took the message once switched on: {}", peek().await);
    emulator.stop().await;
}

/// A function with an `sqs` trigger gets, as its sample event, one record of its own queue with the fields of
/// AWS's sample record.
#[tokio::test]
async fn the_sample_event_of_a_queues_function_is_a_record_of_that_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (emulator, console) = start_with_console(sqs_options(dir.path())).await;
    let sample: Value =
        reqwest::get(format!("{console}/api/functions/bulk/sample")).await.unwrap().json().await.unwrap();
    serde_json::from_value::<aws_lambda_events::sqs::SqsEvent>(sample.clone()).expect("aws_lambda_events reads it");
    let record = &sample["Records"][0];
    let aws = &aws_sample_event("example-sqs-event.json")["Records"][0];
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(keys(record), keys(aws), "{record}");
    assert_eq!(keys(&record["attributes"]), keys(&aws["attributes"]));
    assert_eq!(record["body"], "{}");
    assert_eq!(record["md5OfBody"], format!("{:x}", md5::compute("{}")));
    assert_eq!(record["eventSourceARN"], "arn:aws:sqs:eu-north-1:000000000000:bulk-dev");
    assert_eq!(record["awsRegion"], "eu-north-1");
    emulator.stop().await;
}
