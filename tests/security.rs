//! Security: every listener is on 127.0.0.1 unless `--host` says otherwise (and then the log warns), values from
//! `serverless.yml` never go through a shell, the emulator writes nothing outside the project (and its
//! target folder): not in HOME, not in the temporary folder; and no web page can drive the local AWS APIs
//! (issue #27): cross-site and DNS-rebinding requests to the Lambda/SQS port and `@connections` are refused,
//! from raw requests and from headless Chromium, while SDKs, the AWS CLI and handlers are served as before.

use aws_sdk_lambda::primitives::Blob;
use ftb_offline_tests::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The local addresses of the TCP sockets listening on `port` (IPv4 and IPv6), read from /proc/net.
fn listening_addresses(port: u16) -> Vec<String> {
    let mut addresses = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            let (Some(local), Some(&"0A")) = (fields.get(1), fields.get(3)) else { continue };
            let Some((ip, hex_port)) = local.split_once(':') else { continue };
            if u16::from_str_radix(hex_port, 16).ok() == Some(port) {
                addresses.push(ip.to_string());
            }
        }
    }
    addresses
}

/// 127.0.0.1 as /proc/net/tcp writes it (little-endian hex).
const LOOPBACK_V4: &str = "0100007F";

#[tokio::test]
async fn every_listener_is_on_loopback_by_default() {
    let emulator = start_fixtures().await;
    let endpoints = emulator.endpoints().clone();
    let output = lambda_client(&emulator).invoke().function_name("echo").send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    let runtime_api = body["env"]["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap().to_string();
    let runtime_port: u16 = runtime_api.rsplit(':').next().unwrap().parse().unwrap();
    for (what, port) in [
        ("HTTP API", endpoints.http_port),
        ("WebSocket API", endpoints.websocket_port),
        ("Lambda, SQS and SNS APIs", endpoints.lambda_port),
        ("S3 API", endpoints.s3_port),
        ("a handler's Runtime API", runtime_port),
    ] {
        let addresses = listening_addresses(port);
        assert!(!addresses.is_empty(), "{what} on port {port} is listening");
        assert!(addresses.iter().all(|a| a == LOOPBACK_V4), "{what} listens on {addresses:?}, not only 127.0.0.1");
    }
}

/// A service of queues only, so the emulator runs as its own process from a temporary project folder.
const QUEUES_ONLY: &str = "service: guarded\nprovider: { name: aws, runtime: provided.al2023, region: eu-north-1 }\nresources:\n  Resources:\n    Work:\n      Type: AWS::SQS::Queue\n      Properties: { QueueName: work }\n";

#[tokio::test]
async fn another_host_is_used_only_when_asked_and_then_the_log_warns() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("serverless.yml"), QUEUES_ONLY).unwrap();
    let mut args = vec!["--host", "0.0.0.0", "start", "--no-build"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(project.path(), &args, &[]);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    assert!(
        process
            .log
            .iter()
            .any(|line| line.contains("WARN") && line.contains("other machines on the network can reach")),
        "{:?}",
        process.log
    );
    let port: u16 = ready.address("HTTP API on ").rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(listening_addresses(port), ["00000000"], "bound where --host said");
}

#[tokio::test]
async fn values_from_serverless_yml_never_go_through_a_shell() {
    let marker = Path::new("/tmp/ftb-offline-shell-marker");
    let _ = std::fs::remove_file(marker);
    let emulator = start_fixtures().await;
    let payload = Blob::new(json!({"probe": "$(touch /tmp/ftb-offline-shell-marker)"}).to_string());
    let output = lambda_client(&emulator).invoke().function_name("shellish").payload(payload).send().await.unwrap();
    let body: Value = serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(
        body["env"]["SHELLISH"],
        "$(touch /tmp/ftb-offline-shell-marker); touch /tmp/ftb-offline-shell-marker `touch /tmp/ftb-offline-shell-marker` | cat",
        "the value arrives exactly as written"
    );
    assert_eq!(body["event"]["probe"], "$(touch /tmp/ftb-offline-shell-marker)");
    assert!(!marker.exists(), "nothing ran the value as a command");
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn nothing_is_written_outside_the_project() {
    let (project, home, tmp) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(project.path().join("serverless.yml"), QUEUES_ONLY).unwrap();
    let env = [("HOME", home.path().to_str().unwrap()), ("TMPDIR", tmp.path().to_str().unwrap())];
    let mut args = vec!["start", "--no-build", "--persist"];
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(project.path(), &args, &env);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    let sqs = sqs_client_at(&ready.address("Lambda, SQS and SNS APIs on "));
    let queue = sqs.get_queue_url().queue_name("work").send().await.unwrap().queue_url.unwrap();
    sqs.send_message().queue_url(&queue).message_body("kept").send().await.unwrap();
    assert!(process.interrupt().success());
    assert_eq!(files_under(home.path()), Vec::<String>::new(), "nothing in HOME");
    assert_eq!(files_under(tmp.path()), Vec::<String>::new(), "nothing in the temporary folder");
    assert_eq!(files_under(project.path()), [".ftb-offline/dev/sqs.json", "serverless.yml"], "only its own state");
}

// ---- No web page can drive the local AWS APIs (issue #27) ----

/// What came back for a raw request: the status, the headers (names lowercased) and the body.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The message of an AWS error, whichever protocol shaped it.
    fn error_message(&self) -> String {
        if self.body.starts_with('{') {
            self.json()["message"].as_str().unwrap_or_default().to_string()
        } else {
            self.body
                .split("<Message>")
                .nth(1)
                .and_then(|rest| rest.split("</Message>").next())
                .unwrap_or_default()
                .to_string()
        }
    }
}

/// Sends a request written byte for byte, so that `Host` and `Origin` are exactly what a browser under an
/// attacker's page would send. Only `headers` are sent, besides the length and `Connection: close`.
async fn send_raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawAnswer {
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await.expect("an answer").unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    let mut lines = head.lines();
    let status = lines.next().and_then(|line| line.split(' ').nth(1)).and_then(|code| code.parse().ok()).unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    RawAnswer { status, headers, body: body.to_string() }
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const TEXT: (&str, &str) = ("Content-Type", "text/plain");
const EVIL_ORIGIN: &str = "http://evil.example";

/// The events the WebSocket fixture recorded for direct invocations (`{"from": …}`), in order.
fn invoked_from(events_dir: &Path) -> Vec<String> {
    recorded_events(events_dir).iter().filter_map(|event| event["from"].as_str().map(String::from)).collect()
}

/// Asserts a refusal by the guard: 403, the AWS error of `error_type`, a message naming `flag`.
fn assert_refused(answer: &RawAnswer, error_type: &str, flag: &str, what: &str) {
    assert_eq!(answer.status, 403, "{what}: {answer:?}");
    assert!(
        answer.header("x-amzn-errortype") == Some(error_type)
            || answer.body.contains(&format!("#{error_type}\""))
            || answer.body.contains(&format!("<Code>{error_type}</Code>")),
        "{what}: not {error_type}: {answer:?}"
    );
    let message = answer.error_message();
    assert!(
        message.contains("refused") && message.contains(flag),
        "{what}: the message says why and which flag allows it: {message}"
    );
}

#[tokio::test]
async fn a_cross_site_or_rebinding_invoke_is_refused_and_the_function_never_runs() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(events.path())).await;
    let port = emulator.endpoints().lambda_port;
    let (loopback, rebound) = (format!("127.0.0.1:{port}"), format!("attacker.example:{port}"));
    let rebound_origin = format!("http://{rebound}");
    let invoke = "/2015-03-31/functions/fallback/invocations";
    // The issue's request: a "simple" cross-site POST, which a browser sends without a preflight.
    let cross_site = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), TEXT];
    let answer = send_raw(port, "POST", invoke, &cross_site, br#"{"from":"cross-site"}"#).await;
    assert_refused(&answer, "AccessDeniedException", "--allow-origin http://evil.example", "cross-site invoke");
    let rebinding = [("Host", rebound.as_str()), ("Origin", rebound_origin.as_str()), TEXT];
    let answer = send_raw(port, "POST", invoke, &rebinding, br#"{"from":"rebinding"}"#).await;
    assert_refused(&answer, "AccessDeniedException", "--allow-host attacker.example", "rebinding invoke");
    let event = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), ("X-Amz-Invocation-Type", "Event"), TEXT];
    let answer = send_raw(port, "POST", invoke, &event, br#"{"from":"cross-site event"}"#).await;
    assert_refused(&answer, "AccessDeniedException", "--allow-origin", "cross-site Event invoke");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(invoked_from(events.path()), Vec::<String>::new(), "the function never ran");
    assert_eq!(emulator.lambda().find("fallback").unwrap().idle_workers(), 0, "no process was even started");
    // The same request as SDKs send it, without Origin and to the loopback address, is served.
    let answer = send_raw(port, "POST", invoke, &[("Host", loopback.as_str()), TEXT], br#"{"from":"sdk-like"}"#).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(invoked_from(events.path()), ["sdk-like"]);
}

/// The bodies of every message in `queue`, received once (sorted).
async fn message_bodies(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let received = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
        let messages = received.messages();
        if messages.is_empty() {
            break;
        }
        bodies.extend(messages.iter().map(|m| m.body().unwrap_or_default().to_string()));
    }
    bodies.sort();
    bodies
}

#[tokio::test]
async fn cross_site_and_rebinding_queue_requests_are_refused_and_the_queue_is_left_intact() {
    let emulator = start_fixtures().await;
    let sqs = sqs_client(&emulator);
    let queue = sqs.get_queue_url().queue_name("work-dev").send().await.unwrap().queue_url.unwrap();
    for body in ["first", "second"] {
        sqs.send_message().queue_url(&queue).message_body(body).send().await.unwrap();
    }
    let port = emulator.endpoints().lambda_port;
    let (loopback, rebound) = (format!("127.0.0.1:{port}"), format!("attacker.example:{port}"));
    let rebound_origin = format!("http://{rebound}");
    let encoded = urlencode(&queue);
    let actions = [
        "Action=ListQueues".to_string(),
        format!("Action=SendMessage&QueueUrl={encoded}&MessageBody=injected"),
        format!("Action=PurgeQueue&QueueUrl={encoded}"),
        format!("Action=DeleteQueue&QueueUrl={encoded}"),
    ];
    // The issue's DNS-rebinding page: its own name in Host and Origin, a form body (query protocol).
    let rebinding = [("Host", rebound.as_str()), ("Origin", rebound_origin.as_str()), FORM];
    let cross_site = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), FORM];
    for action in &actions {
        let answer = send_raw(port, "POST", "/", &rebinding, action.as_bytes()).await;
        assert_refused(&answer, "AccessDenied", "--allow-host attacker.example", action);
        assert!(!answer.body.contains("work-dev"), "nothing listed: {answer:?}");
        let answer = send_raw(port, "POST", "/", &cross_site, action.as_bytes()).await;
        assert_refused(&answer, "AccessDenied", "--allow-origin http://evil.example", action);
    }
    // The JSON protocol needs a preflight, which the guard refuses like the request itself (and without CORS
    // headers, so the browser would not send the request). Sent anyway: SQS's JSON error and its query code.
    let preflight = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), ("Access-Control-Request-Method", "POST")];
    let answer = send_raw(port, "OPTIONS", "/", &preflight, b"").await;
    assert_refused(&answer, "AccessDenied", "--allow-origin", "a preflight");
    assert_eq!(answer.header("access-control-allow-origin"), None);
    for operation in ["SendMessage", "PurgeQueue", "DeleteQueue"] {
        let target = format!("AmazonSQS.{operation}");
        let headers = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), ("X-Amz-Target", target.as_str())];
        let body = json!({"QueueUrl": queue, "MessageBody": "injected"}).to_string();
        let answer = send_raw(port, "POST", "/", &headers, body.as_bytes()).await;
        assert_refused(&answer, "AccessDeniedException", "--allow-origin", operation);
        assert_eq!(answer.json()["__type"], "com.amazon.coral.service#AccessDeniedException");
        assert_eq!(answer.header("x-amzn-query-error"), Some("AccessDenied;Sender"));
    }
    // A page's GET (an <img>, a no-cors fetch) has no Origin; the browser's Sec-Fetch-Site gives it away.
    let get = format!("/?Action=PurgeQueue&QueueUrl={encoded}");
    let answer =
        send_raw(port, "GET", &get, &[("Host", loopback.as_str()), ("Sec-Fetch-Site", "cross-site")], b"").await;
    assert_refused(&answer, "AccessDenied", "--allow-origin", "a cross-site GET");
    // Nothing changed: the queue is there with both messages and nothing else.
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let count =
        attributes.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages].clone();
    assert_eq!(count, "2");
    assert_eq!(message_bodies(&sqs, &queue).await, ["first", "second"]);
    // Without Origin and to a loopback name, the same form requests are served.
    let answer = send_raw(port, "POST", "/", &[("Host", loopback.as_str()), FORM], b"Action=ListQueues").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.body.contains("work-dev"), "{answer:?}");
}

type WsClient = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket connection (from a page on another origin: the WebSocket API accepts any, as API Gateway
/// does) and returns it with its connection id.
async fn connect_from_another_origin(emulator: &ftb_offline::Emulator) -> (WsClient, String) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = emulator.endpoints().websocket_url().into_client_request().unwrap();
    request.headers_mut().insert("origin", EVIL_ORIGIN.parse().unwrap());
    let (client, _) = tokio_tungstenite::connect_async(request).await.expect("any Origin may connect");
    let mut id = None;
    assert!(
        eventually(Duration::from_secs(5), || {
            id = emulator.websocket_connection_ids().pop();
            id.is_some()
        })
        .await
    );
    (client, id.unwrap())
}

/// The text messages `client` receives within `wait`.
async fn texts_within(client: &mut WsClient, wait: Duration) -> Vec<String> {
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, client.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            texts.push(text.to_string());
        }
    }
    texts
}

#[tokio::test]
async fn cross_site_and_rebinding_connections_requests_are_refused_and_the_client_gets_nothing() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(events.path())).await;
    let (mut client, id) = connect_from_another_origin(&emulator).await;
    let port = emulator.endpoints().websocket_port;
    let (loopback, rebound) = (format!("127.0.0.1:{port}"), format!("attacker.example:{port}"));
    let rebound_origin = format!("http://{rebound}");
    let cross_site = [("Host", loopback.as_str()), ("Origin", EVIL_ORIGIN), TEXT];
    let rebinding = [("Host", rebound.as_str()), ("Origin", rebound_origin.as_str()), TEXT];
    for path in [format!("/@connections/{id}"), format!("/dev/@connections/{id}")] {
        let answer = send_raw(port, "POST", &path, &cross_site, b"injected").await;
        assert_refused(&answer, "AccessDeniedException", "--allow-origin http://evil.example", &path);
        assert!(answer.json()["message"].is_string());
        let answer = send_raw(port, "POST", &path, &rebinding, b"injected").await;
        assert_refused(&answer, "AccessDeniedException", "--allow-host attacker.example", &path);
        let answer = send_raw(port, "DELETE", &path, &rebinding, b"").await;
        assert_refused(&answer, "AccessDeniedException", "--allow-host", &path);
        let answer =
            send_raw(port, "GET", &path, &[("Host", loopback.as_str()), ("Sec-Fetch-Site", "same-site")], b"").await;
        assert_refused(&answer, "AccessDeniedException", "--allow-origin", &path);
    }
    assert_eq!(texts_within(&mut client, Duration::from_millis(500)).await, Vec::<String>::new(), "nothing was posted");
    assert_eq!(emulator.websocket_connection_ids(), [id.as_str()], "nor was the connection deleted");
    // The management SDK client, as handlers use it, still posts.
    let management = management_client(&format!("http://127.0.0.1:{port}/dev"));
    management.post_to_connection().connection_id(&id).data(Blob::new("from the sdk")).send().await.unwrap();
    assert_eq!(texts_within(&mut client, Duration::from_secs(2)).await, ["from the sdk"]);
}

#[tokio::test]
async fn sdks_and_the_aws_cli_are_still_served_at_every_loopback_name() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(ws_options(events.path())).await;
    let (mut client, id) = connect_from_another_origin(&emulator).await;
    let endpoints = emulator.endpoints().clone();
    for host in ["127.0.0.1", "localhost"] {
        let lambda = format!("http://{host}:{}", endpoints.lambda_port);
        let from = format!("sdk at {host}");
        let payload = Blob::new(json!({ "from": from }).to_string());
        let output = lambda_client_at(&lambda).invoke().function_name("quiet").payload(payload).send().await.unwrap();
        assert_eq!(output.status_code(), 200);
        let sqs = sqs_client_at(&lambda);
        let queue = sqs.create_queue().queue_name("served").send().await.unwrap().queue_url.unwrap();
        sqs.send_message().queue_url(&queue).message_body(&from).send().await.unwrap();
        let management = management_client(&format!("http://{host}:{}/dev", endpoints.websocket_port));
        management.post_to_connection().connection_id(&id).data(Blob::new(from.clone())).send().await.unwrap();
        assert_eq!(texts_within(&mut client, Duration::from_secs(2)).await, [from.as_str()]);
    }
    let lambda = endpoints.lambda_url();
    let out = events.path().join("out.json");
    let cli = |args: &[&str]| {
        let mut command = aws_cli();
        command.args(args);
        command
    };
    let invoked = cli(&["lambda", "invoke", "--endpoint-url", &lambda, "--function-name", "quiet"])
        .args(["--payload", r#"{"from":"cli"}"#])
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert!(invoked.status.success(), "{}", String::from_utf8_lossy(&invoked.stderr));
    let queue = format!("{lambda}/000000000000/served");
    let sent = cli(&["sqs", "send-message", "--endpoint-url", &lambda, "--queue-url", &queue, "--message-body", "cli"])
        .output()
        .await
        .unwrap();
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let websocket = format!("http://127.0.0.1:{}/dev", endpoints.websocket_port);
    let posted = cli(&["apigatewaymanagementapi", "post-to-connection", "--endpoint-url", &websocket])
        .args(["--connection-id", &id, "--data", "cli"])
        .output()
        .await
        .unwrap();
    assert!(posted.status.success(), "{}", String::from_utf8_lossy(&posted.stderr));
    assert_eq!(texts_within(&mut client, Duration::from_secs(2)).await, ["cli"]);
    assert_eq!(invoked_from(events.path()), ["sdk at 127.0.0.1", "sdk at localhost", "cli"]);
    let sqs = sqs_client(&emulator);
    assert_eq!(message_bodies(&sqs, &queue).await, ["cli", "sdk at 127.0.0.1", "sdk at localhost"]);
}

/// Sends a query-protocol SendMessage of `body` to `queue` on `port` with these `Host` and `Origin` headers.
async fn send_message_as(port: u16, queue: &str, body: &str, host: &str, origin: Option<&str>) -> RawAnswer {
    let mut headers = vec![("Host", host), FORM];
    headers.extend(origin.map(|origin| ("Origin", origin)));
    let form = format!("Action=SendMessage&QueueUrl={}&MessageBody={}", urlencode(queue), urlencode(body));
    send_raw(port, "POST", "/", &headers, form.as_bytes()).await
}

/// What a guard started with `http://trusted.example:3000` allowed as an origin and `host.docker.internal` as a
/// host lets through, and what it refuses: each refused request sent twice. Returns the bodies sent in requests
/// that were served.
async fn probe_allow_lists(port: u16, queue: &str) -> Vec<String> {
    let (loopback, docker) = (format!("127.0.0.1:{port}"), format!("host.docker.internal:{port}"));
    let trusted = "http://trusted.example:3000";
    let served = [
        ("docker host", docker.as_str(), None),
        ("trusted origin", loopback.as_str(), Some(trusted)),
        ("trusted origin via docker host", docker.as_str(), Some(trusted)),
    ];
    for (body, host, origin) in served {
        let answer = send_message_as(port, queue, body, host, origin).await;
        assert_eq!(answer.status, 200, "{body}: {answer:?}");
    }
    let other_port = format!("other.docker.internal:{port}");
    let refused = [
        ("another port", loopback.as_str(), Some("http://trusted.example:3001")),
        ("another scheme", loopback.as_str(), Some("https://trusted.example:3000")),
        ("no port", loopback.as_str(), Some("http://trusted.example")),
        ("a subdomain", loopback.as_str(), Some("http://www.trusted.example:3000")),
        ("another host", other_port.as_str(), None),
        ("docker host, evil origin", docker.as_str(), Some(EVIL_ORIGIN)),
    ];
    for (body, host, origin) in refused {
        for _ in 0..2 {
            let answer = send_message_as(port, queue, body, host, origin).await;
            assert_refused(&answer, "AccessDenied", "--allow-", body);
        }
    }
    served.iter().map(|(body, ..)| body.to_string()).collect()
}

#[tokio::test]
async fn allow_origin_and_allow_host_let_exactly_what_they_name_through() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("serverless.yml"), QUEUES_ONLY).unwrap();
    let mut args = vec!["start", "--no-build", "--allow-origin", "http://trusted.example:3000"];
    args.extend(["--allow-host", "host.docker.internal"]);
    args.extend(FREE_PORTS);
    let mut process = CliProcess::spawn(project.path(), &args, &[]);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    let endpoint = ready.address("Lambda, SQS and SNS APIs on ");
    let sqs = sqs_client_at(&endpoint);
    let queue = sqs.get_queue_url().queue_name("work").send().await.unwrap().queue_url.unwrap();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let mut served = probe_allow_lists(port, &queue).await;
    served.sort();
    assert_eq!(message_bodies(&sqs, &queue).await, served, "exactly the allowed requests were served");
    process.wait_for_line("Origin `http://evil.example`", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    process.new_lines();
    let warnings: Vec<&String> =
        process.log.iter().filter(|line| line.contains("WARN") && line.contains("refused")).collect();
    for subject in [
        "Origin http://trusted.example:3001",
        "Origin https://trusted.example:3000",
        "Origin http://trusted.example)",
        "Origin http://www.trusted.example:3000",
        "Host other.docker.internal",
        "Origin http://evil.example",
    ] {
        let count = warnings.iter().filter(|line| line.contains(&format!("logged once for {subject}"))).count();
        assert_eq!(count, 1, "one warning for {subject}: {warnings:#?}");
    }
    assert_eq!(warnings.len(), 6, "{warnings:#?}");
}

#[tokio::test]
async fn custom_ftb_offline_allows_origins_and_hosts_as_the_flags_do() {
    let project = tempfile::tempdir().unwrap();
    let allow = "custom:\n  ftb-offline:\n    allowOrigins: [http://trusted.example:3000]\n    allowHosts:\n      - host.docker.internal\n";
    std::fs::write(project.path().join("serverless.yml"), format!("{QUEUES_ONLY}{allow}")).unwrap();
    let mut options = ftb_offline::EmulatorOptions::new(project.path().join("serverless.yml"));
    (options.http_port, options.websocket_port, options.lambda_port, options.s3_port) =
        (Some(0), Some(0), Some(0), Some(0));
    options.build = ftb_offline::lambda::runtimes::cargo::BuildMode::NoBuild { release: false };
    let emulator = start(options).await;
    let sqs = sqs_client(&emulator);
    let queue = sqs.get_queue_url().queue_name("work").send().await.unwrap().queue_url.unwrap();
    let mut served = probe_allow_lists(emulator.endpoints().lambda_port, &queue).await;
    served.sort();
    assert_eq!(message_bodies(&sqs, &queue).await, served);
}

#[test]
fn a_malformed_allow_list_entry_is_reported_where_it_was_written() {
    let project = tempfile::tempdir().unwrap();
    let path = project.path().join("serverless.yml");
    let load = |custom: &str| {
        let text = format!("{QUEUES_ONLY}custom:\n  ftb-offline:\n{custom}");
        ftb_offline::config::load_str(&text, &path, &Default::default()).expect_err("refused")
    };
    let first_custom_line = QUEUES_ONLY.lines().count() + 3;
    let err = load("    allowOrigins:\n      - http://localhost:4200\n      - localhost:4200\n");
    assert_eq!(err.key_path, "custom.ftb-offline.allowOrigins.1", "{err}");
    assert_eq!(err.location.as_ref().unwrap().line, first_custom_line + 2, "{err}");
    assert!(err.message.contains("expected an origin") && err.message.contains("localhost:4200"), "{err}");
    let err = load("    allowHosts: [http://host.docker.internal]\n");
    assert_eq!(err.key_path, "custom.ftb-offline.allowHosts.0", "{err}");
    assert_eq!(err.location.as_ref().unwrap().line, first_custom_line, "{err}");
    let err = load("    allowOrigin: [http://localhost:4200]\n");
    assert!(err.to_string().contains("allowOrigin") && err.to_string().contains("allowOrigins"), "{err}");
    // The flags say so too, before anything starts.
    let (status, output) = run_cli(project.path(), &["start", "--allow-origin", "localhost:4200"], &[]);
    assert!(!status.success() && output.contains("expected an origin"), "{output}");
}

#[tokio::test]
async fn pages_on_other_origins_leave_no_trace_through_no_cors_fetches_in_headless_chromium() {
    let allowed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let events = tempfile::tempdir().unwrap();
    let mut options = ws_options(events.path());
    options.guard.allow_origins = vec![format!("http://127.0.0.1:{allowed_port}")];
    let emulator = start(options).await;
    let (mut client, id) = connect_from_another_origin(&emulator).await;
    let sqs = sqs_client(&emulator);
    let queue = sqs.create_queue().queue_name("kept").send().await.unwrap().queue_url.unwrap();
    for body in ["first", "second"] {
        sqs.send_message().queue_url(&queue).message_body(body).send().await.unwrap();
    }
    let endpoints = emulator.endpoints();
    let plan = json!({
        "lambdaPort": endpoints.lambda_port,
        "websocketPort": endpoints.websocket_port,
        "function": "quiet",
        "queueUrl": queue,
        "connectionId": id,
        "allowedPort": allowed_port,
    });
    let seen = run_browser_script("cross_site.mjs", &[plan.to_string().as_ref()]).await;
    for page in ["cross-site", "rebinding", "allowed"] {
        let fetches = seen[page].as_array().unwrap();
        assert!(
            fetches.iter().all(|f| f.as_str().unwrap().ends_with(": opaque")),
            "{page}: every fetch was sent and answered: {fetches:?}"
        );
    }
    // The allowed page's requests arrived, so the others reached the emulator too and were refused there.
    assert_eq!(invoked_from(events.path()), ["allowed"], "only the allowed page invoked the function");
    assert_eq!(texts_within(&mut client, Duration::from_secs(1)).await, ["allowed", "allowed"], "and posted");
    assert_eq!(message_bodies(&sqs, &queue).await, ["allowed", "first", "second"], "the queue is intact");
}
