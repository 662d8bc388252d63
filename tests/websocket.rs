//! The WebSocket API end to end: a real WebSocket client (tokio-tungstenite), real handler processes, and the
//! stock `aws-sdk-apigatewaymanagement` client and AWS CLI for `@connections`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use ftb_offline::Emulator;
use ftb_offline_tests::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(emulator: &Emulator, path: &str) -> Client {
    let url = format!("{}{path}", emulator.endpoints().websocket_url());
    tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("connect {path}: {e}")).0
}

/// The next text message, within 20 s (a thousand invocations of an unoptimised build on a loaded machine).
async fn next_text(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), client.next()).await.expect("a message in time");
        match message.expect("open").expect("no error") {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str()).unwrap_or(Value::String(text.to_string()))
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Sends `{"action":"echo"}` and returns this connection's id from the answer.
async fn connection_id(client: &mut Client) -> String {
    client.send(Message::text(json!({"action": "echo"}).to_string())).await.unwrap();
    next_text(client).await["connectionId"].as_str().unwrap().to_string()
}

/// The close code the server sent, waiting up to 5 s.
async fn close_code(client: &mut Client) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)).unwrap_or(1005),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn events_of(dir: &std::path::Path, event_type: &str) -> Vec<Value> {
    recorded_events(dir).into_iter().filter(|e| e["requestContext"]["eventType"] == event_type).collect()
}

#[tokio::test]
async fn connect_message_and_disconnect_events_reach_the_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    let request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "{}/dev?user=ada&tag=a&tag=b",
        emulator.endpoints().websocket_url()
    ))
    .unwrap();
    let mut request = request;
    request.headers_mut().insert("x-custom", "one".parse().unwrap());
    let (mut client, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let id = connection_id(&mut client).await;
    client.send(Message::text(r#"{"action":"unknown-route","n":1}"#)).await.unwrap();
    let answer = next_text(&mut client).await;
    assert_eq!(
        (answer["route"].as_str(), answer["echo"]["n"].as_i64()),
        (Some("$default"), Some(1)),
        "no route named unknown-route: $default"
    );
    client.send(Message::text("not even json")).await.unwrap();
    assert_eq!(next_text(&mut client).await["route"], "$default");
    let normal = tokio_tungstenite::tungstenite::protocol::CloseFrame { code: 1000.into(), reason: "bye".into() };
    client.close(Some(normal)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || events_of(dir.path(), "DISCONNECT").len() == 1).await,
        "$disconnect ran"
    );

    let connect = &events_of(dir.path(), "CONNECT")[0];
    let context = &connect["requestContext"];
    assert_eq!((context["routeKey"].as_str(), context["connectionId"].as_str()), (Some("$connect"), Some(id.as_str())));
    assert_eq!(context["stage"], "dev");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert!(
        context["connectedAt"].as_i64().unwrap() > 0
            && context["requestId"].is_string()
            && context["apiId"].is_string()
    );
    assert_eq!(connect["queryStringParameters"]["user"], "ada");
    assert_eq!(connect["multiValueQueryStringParameters"]["tag"], json!(["a", "b"]));
    assert_eq!(connect["headers"]["X-Custom"], "one");
    let messages = events_of(dir.path(), "MESSAGE");
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["requestContext"]["routeKey"], "echo");
    assert_eq!(messages[0]["body"], r#"{"action":"echo"}"#);
    let disconnect = &events_of(dir.path(), "DISCONNECT")[0];
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1000);
    assert_eq!(disconnect["requestContext"]["disconnectReason"], "bye");
    assert_eq!(disconnect["requestContext"]["connectionId"], id.as_str());
    for event in recorded_events(dir.path()) {
        serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(event.clone())
            .unwrap_or_else(|e| panic!("aws_lambda_events reads {event}: {e}"));
    }
}

#[tokio::test]
async fn a_refusing_or_failing_connect_refuses_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    for (query, status) in [("/?mode=refuse", 403), ("/dev?mode=crash", 500)] {
        let url = format!("{}{query}", emulator.endpoints().websocket_url());
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), status, "{query}")
            }
            other => panic!("{query}: expected a refused handshake, got {:?}", other.map(|_| "a connection")),
        }
    }
    assert!(
        emulator.lambda().find("disconnect").unwrap().idle_workers() == 0,
        "no $disconnect for a refused connection"
    );
}

#[tokio::test]
async fn routes_without_a_route_response_send_nothing_back_and_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    let mut client = connect(&emulator, "/").await;
    client.send(Message::text(r#"{"action":"quiet"}"#)).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(700), client.next()).await.is_err(),
        "a route without a route response answers nothing"
    );
    // The route's function ran (a cold start, so perhaps after the 700 ms above).
    let quiet_ran = || events_of(dir.path(), "MESSAGE").iter().any(|e| e["requestContext"]["routeKey"] == "quiet");
    assert!(eventually(Duration::from_secs(10), quiet_ran).await, "the quiet route's function got the message");
    client.send(Message::text(r#"{"action":"echo","mode":"crash"}"#)).await.unwrap();
    let error = next_text(&mut client).await;
    assert_eq!(error["message"], "Internal server error");
    assert!(error["connectionId"].is_string() && error["requestId"].is_string());
}

#[tokio::test]
async fn without_a_matching_route_or_default_the_client_gets_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ws_options(dir.path());
    options.load.params.insert("defaultRoute".into(), "fallback".into());
    let emulator = start(options).await;
    let mut client = connect(&emulator, "/dev").await;
    client.send(Message::text(r#"{"action":"nowhere"}"#)).await.unwrap();
    let answer = next_text(&mut client).await;
    assert_eq!(answer["message"], "Forbidden");
}

#[tokio::test]
async fn the_management_api_posts_gets_and_deletes_connections() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    let mut client = connect(&emulator, "/dev").await;
    let id = connection_id(&mut client).await;
    let ws_http = format!("http://127.0.0.1:{}", emulator.endpoints().websocket_port);
    for endpoint in [format!("{ws_http}/dev"), ws_http.clone()] {
        let management = management_client(&endpoint);
        management.post_to_connection().connection_id(&id).data(Blob::new(r#"{"pushed":true}"#)).send().await.unwrap();
        assert_eq!(next_text(&mut client).await, json!({"pushed": true}), "via {endpoint}");
    }
    let management = management_client(&format!("{ws_http}/dev"));
    let info = management.get_connection().connection_id(&id).send().await.unwrap();
    assert_eq!(info.identity().unwrap().source_ip(), Some("127.0.0.1"));
    assert!(info.connected_at().is_some() && info.last_active_at().is_some());
    let too_big = management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(vec![b'x'; 128 * 1024 + 1]))
        .send()
        .await
        .unwrap_err();
    assert!(too_big.into_service_error().is_payload_too_large_exception());
    management.delete_connection().connection_id(&id).send().await.unwrap();
    assert_eq!(close_code(&mut client).await, 1000);
    assert!(
        eventually(Duration::from_secs(5), || events_of(dir.path(), "DISCONNECT").len() == 1).await,
        "DeleteConnection triggers $disconnect"
    );
    let gone = management.post_to_connection().connection_id(&id).data(Blob::new("late")).send().await.unwrap_err();
    assert!(gone.into_service_error().is_gone_exception(), "410 after the connection closed");
    let gone = management.get_connection().connection_id("neverExisted=").send().await.unwrap_err();
    assert!(gone.into_service_error().is_gone_exception());
}

#[tokio::test]
async fn the_aws_cli_posts_to_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    let mut client = connect(&emulator, "/dev").await;
    let id = connection_id(&mut client).await;
    let endpoint = format!("http://127.0.0.1:{}/dev", emulator.endpoints().websocket_port);
    let output = aws_cli()
        .args([
            "apigatewaymanagementapi",
            "post-to-connection",
            "--endpoint-url",
            &endpoint,
            "--connection-id",
            &id,
            "--data",
            r#"{"from":"cli"}"#,
        ])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(next_text(&mut client).await, json!({"from": "cli"}));
}

#[tokio::test]
async fn oversize_and_binary_messages_close_with_api_gateways_codes() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(dir.path())).await;
    let mut client = connect(&emulator, "/").await;
    client.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(close_code(&mut client).await, 1003);
    let mut client = connect(&emulator, "/").await;
    client.send(Message::text("x".repeat(129 * 1024))).await.unwrap();
    assert_eq!(close_code(&mut client).await, 1009);
    let mut client = connect(&emulator, "/").await;
    assert!(!connection_id(&mut client).await.is_empty(), "the server still serves new connections");
    assert!(eventually(Duration::from_secs(5), || events_of(dir.path(), "DISCONNECT").len() == 2).await);
    let codes: Vec<i64> = events_of(dir.path(), "DISCONNECT")
        .iter()
        .map(|e| e["requestContext"]["disconnectStatusCode"].as_i64().unwrap())
        .collect();
    assert!(codes.contains(&1003) && codes.contains(&1009), "{codes:?}");
}

#[tokio::test]
async fn idle_timeout_maximum_duration_and_dropped_connections_all_disconnect() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ws_options(dir.path());
    options.websocket_idle_timeout = Some(Duration::from_millis(600));
    options.websocket_max_duration = Some(Duration::from_millis(1500));
    let emulator = start(options).await;
    let mut idle = connect(&emulator, "/").await;
    assert_eq!(close_code(&mut idle).await, 1001, "idle for longer than the idle timeout");
    let mut busy = connect(&emulator, "/").await;
    let started = std::time::Instant::now();
    let code = loop {
        busy.send(Message::text(r#"{"action":"quiet"}"#)).await.ok();
        match tokio::time::timeout(Duration::from_millis(200), busy.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)).unwrap_or(1005),
            Ok(None) | Ok(Some(Err(_))) => panic!("closed without a close frame"),
            _ => assert!(started.elapsed() < Duration::from_secs(5), "the maximum duration never ended the connection"),
        }
    };
    assert_eq!(code, 1001, "kept busy, it still ends at the maximum duration");
    let dropped = connect(&emulator, "/").await;
    drop(dropped);
    assert!(eventually(Duration::from_secs(5), || events_of(dir.path(), "DISCONNECT").len() == 3).await);
    let codes: Vec<i64> = events_of(dir.path(), "DISCONNECT")
        .iter()
        .map(|e| e["requestContext"]["disconnectStatusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 1001).count(), 2, "{codes:?}");
    assert!(codes.contains(&1006), "a dropped connection is reported as 1006: {codes:?}");
}

#[tokio::test]
async fn a_thousand_connections_are_held_and_each_receives_its_message() {
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut options = ws_options(dir.path());
    options.load.params.remove("eventsDir");
    let emulator = start(options).await;
    let url = emulator.endpoints().websocket_url();
    let mut clients = Vec::new();
    for chunk in 0..10 {
        let batch = (0..100).map(|_| tokio_tungstenite::connect_async(url.clone()));
        for result in futures_util::future::join_all(batch).await {
            clients.push(result.unwrap_or_else(|e| panic!("batch {chunk}: {e}")).0);
        }
    }
    let ids = futures_util::future::join_all(clients.iter_mut().map(connection_id)).await;
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 1000);
    let management = management_client(&format!("http://127.0.0.1:{}/dev", emulator.endpoints().websocket_port));
    let posts = ids.iter().map(|id| {
        let management = management.clone();
        async move {
            management
                .post_to_connection()
                .connection_id(id)
                .data(Blob::new(format!(r#"{{"for":"{id}"}}"#)))
                .send()
                .await
        }
    });
    for result in futures_util::future::join_all(posts).await {
        result.expect("PostToConnection");
    }
    let received = futures_util::future::join_all(clients.iter_mut().map(next_text)).await;
    for (id, message) in ids.iter().zip(received) {
        assert_eq!(message["for"], id.as_str(), "each client got its own message");
    }
}
