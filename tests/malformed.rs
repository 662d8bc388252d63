//! A corpus of malformed input, sent raw to each of the emulator's ports: bad JSON, wrong types, unknown queues
//! and functions, oversize bodies and headers, odd `Host` and `Origin` values for the guard, garbage that is not
//! HTTP, truncated and oversize WebSocket frames, and a client too slow to send its headers. Each gets an AWS-shaped error (or, below HTTP, a closed
//! connection), never a panic or a hang, and the emulator keeps serving.

use ftb_offline::Emulator;
use ftb_offline_tests::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics anywhere in the process (a panicking server task would otherwise only log).
fn count_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
}

/// Which listener a case goes to.
#[derive(Clone, Copy, Debug)]
enum Port {
    Lambda,
    Http,
    WebSocket,
}

/// What must come back.
#[derive(Debug)]
enum Expect {
    /// This status, with this text (an error type) in the body.
    Error(u16, &'static str),
    /// Any 4xx status, or the connection closed without an answer (input that is not HTTP at all).
    Refused,
}

struct Case {
    name: &'static str,
    port: Port,
    raw: Vec<u8>,
    expect: Expect,
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    request_for_host(b"127.0.0.1", method, path, headers, body)
}

/// A request with these bytes as its `Host`.
fn request_for_host(host: &[u8], method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: ").into_bytes();
    raw.extend_from_slice(host);
    raw.extend_from_slice(format!("\r\nConnection: close\r\nContent-Length: {}\r\n", body.len()).as_bytes());
    for (name, value) in headers {
        raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

const LIST_QUEUES: &[u8] = b"Action=ListQueues";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn sqs_json(operation: &str, body: &str) -> Vec<u8> {
    sqs_json_with(operation, body, &[])
}

fn sqs_json_with(operation: &str, body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let target = format!("AmazonSQS.{operation}");
    let mut headers = vec![("X-Amz-Target", target.as_str()), ("Content-Type", "application/x-amz-json-1.0")];
    headers.extend_from_slice(extra);
    request("POST", "/", &headers, body.as_bytes())
}

fn invoke(function: &str, body: &[u8]) -> Vec<u8> {
    request("POST", &format!("/2015-03-31/functions/{function}/invocations"), &[], body)
}

fn corpus(queue_url: &str) -> Vec<Case> {
    use Expect::*;
    use Port::*;
    let case = |name, port, raw, expect| Case { name, port, raw, expect };
    let big = vec![b'x'; 7 * 1024 * 1024];
    let json_big = format!("\"{}\"", "x".repeat(11 * 1024 * 1024));
    let mut cases = vec![
        // Lambda Invoke API
        case("invoke: unknown function", Lambda, invoke("nobody", b"{}"), Error(404, "ResourceNotFoundException")),
        case(
            "invoke: payload not JSON",
            Lambda,
            invoke("web", b"{not json"),
            Error(400, "InvalidRequestContentException"),
        ),
        case(
            "invoke: truncated JSON",
            Lambda,
            invoke("web", b"{\"a\": [1, 2"),
            Error(400, "InvalidRequestContentException"),
        ),
        case("invoke: over 6 MB", Lambda, invoke("web", &big), Error(413, "RequestTooLargeException")),
        case(
            "invoke: bad invocation type",
            Lambda,
            request("POST", "/2015-03-31/functions/web/invocations", &[("X-Amz-Invocation-Type", "Sometimes")], b"{}"),
            Error(400, "InvalidParameterValueException"),
        ),
        case(
            "invoke: bad client context",
            Lambda,
            request(
                "POST",
                "/2015-03-31/functions/web/invocations",
                &[("X-Amz-Client-Context", "%%%not-base64")],
                b"{}",
            ),
            Error(400, "InvalidRequestContentException"),
        ),
        case(
            "invoke: GET",
            Lambda,
            request("GET", "/2015-03-31/functions/web/invocations", &[], b""),
            Error(405, "UnknownOperationException"),
        ),
        case("lambda: unknown path", Lambda, request("POST", "/2099-01-01/nothing", &[], b"{}"), Error(404, "")),
        // SQS, JSON protocol
        case("sqs: body not JSON", Lambda, sqs_json("SendMessage", "{nope"), Error(400, "")),
        case("sqs: unknown operation", Lambda, sqs_json("LaunchRockets", "{}"), Error(400, "")),
        case(
            "sqs: unknown queue",
            Lambda,
            sqs_json("SendMessage", r#"{"QueueUrl":"http://127.0.0.1:1/000000000000/none","MessageBody":"x"}"#),
            Error(400, "QueueDoesNotExist"),
        ),
        case(
            "sqs: missing parameter",
            Lambda,
            sqs_json("SendMessage", &format!(r#"{{"QueueUrl":"{queue_url}"}}"#)),
            Error(400, "MissingParameter"),
        ),
        case(
            "sqs: wrong type",
            Lambda,
            sqs_json("ReceiveMessage", &format!(r#"{{"QueueUrl":"{queue_url}","MaxNumberOfMessages":"ten"}}"#)),
            Error(400, ""),
        ),
        case(
            "sqs: out of range",
            Lambda,
            sqs_json("ReceiveMessage", &format!(r#"{{"QueueUrl":"{queue_url}","MaxNumberOfMessages":11}}"#)),
            Error(400, ""),
        ),
        case(
            "sqs: message too large",
            Lambda,
            sqs_json("SendMessage", &format!(r#"{{"QueueUrl":"{queue_url}","MessageBody":{json_big}}}"#)),
            Refused,
        ),
        case(
            "sqs: invalid characters",
            Lambda,
            sqs_json("SendMessage", &format!(r#"{{"QueueUrl":"{queue_url}","MessageBody":"\u0000"}}"#)),
            Error(400, "InvalidMessageContents"),
        ),
        case(
            "sqs: bad receipt",
            Lambda,
            sqs_json("DeleteMessage", &format!(r#"{{"QueueUrl":"{queue_url}","ReceiptHandle":"garbage"}}"#)),
            Error(400, "ReceiptHandleIsInvalid"),
        ),
        case(
            "sqs: empty batch",
            Lambda,
            sqs_json("SendMessageBatch", &format!(r#"{{"QueueUrl":"{queue_url}","Entries":[]}}"#)),
            Error(400, "EmptyBatchRequest"),
        ),
        case(
            "sqs: bad queue name",
            Lambda,
            sqs_json("CreateQueue", r#"{"QueueName":"no spaces allowed"}"#),
            Error(400, ""),
        ),
        // SQS, query protocol
        case(
            "sqs query: unknown action",
            Lambda,
            request(
                "POST",
                "/",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                b"Action=Explode&Version=2012-11-05",
            ),
            Error(400, ""),
        ),
        case(
            "sqs query: unknown queue",
            Lambda,
            request(
                "POST",
                "/",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                b"Action=GetQueueUrl&QueueName=missing",
            ),
            Error(400, "NonExistentQueue"),
        ),
        // The guard: Host and Origin values no SDK sends
        case(
            "guard: a Host of another site",
            Lambda,
            request_for_host(b"attacker.example:4002", "POST", "/2015-03-31/functions/web/invocations", &[], b"{}"),
            Error(403, "AccessDeniedException"),
        ),
        case(
            "guard: a second Host, of another site",
            Lambda,
            request("POST", "/", &[FORM, ("Host", "attacker.example")], LIST_QUEUES),
            Error(403, "AccessDenied"),
        ),
        case(
            "guard: an absolute-form target on another host",
            Lambda,
            request("POST", "http://attacker.example:4002/", &[FORM], LIST_QUEUES),
            Error(403, "AccessDenied"),
        ),
        case(
            "guard: Origin null",
            Lambda,
            sqs_json_with("ListQueues", "{}", &[("Origin", "null")]),
            Error(403, "AccessDeniedException"),
        ),
        case(
            "guard: an empty Origin",
            Lambda,
            request("POST", "/", &[FORM, ("Origin", "")], LIST_QUEUES),
            Error(403, "AccessDenied"),
        ),
        case(
            "guard: an Origin of 64 KB",
            Lambda,
            request(
                "POST",
                "/",
                &[FORM, ("Origin", &format!("http://{}.example", "o".repeat(64 * 1024)))],
                LIST_QUEUES,
            ),
            Error(403, "AccessDenied"),
        ),
        case(
            "guard: an Origin with a control character",
            Lambda,
            request("POST", "/", &[FORM, ("Origin", "http://evil.example\u{1}")], LIST_QUEUES),
            Refused,
        ),
        case(
            "guard: a cross-site GET without Origin",
            Lambda,
            request("GET", "/?Action=ListQueues", &[("Sec-Fetch-Site", "cross-site")], b""),
            Error(403, "AccessDenied"),
        ),
        case(
            "guard: @connections from another origin",
            WebSocket,
            request("POST", "/@connections/abc", &[("Origin", "http://evil.example")], b"hi"),
            Error(403, "AccessDeniedException"),
        ),
        case(
            "guard: @connections through DNS rebinding",
            WebSocket,
            request_for_host(b"attacker.example", "DELETE", "/dev/@connections/abc", &[], b""),
            Error(403, "AccessDeniedException"),
        ),
        // HTTP API
        case("http: no route", Http, request("GET", "/nowhere/at/all", &[], b""), Refused),
        case(
            "http: over 10 MB",
            Http,
            request("POST", "/dev/web/upload", &[], &vec![b'x'; 11 * 1024 * 1024]),
            Error(413, ""),
        ),
        case(
            "http: huge header",
            Http,
            request("GET", "/dev/web/a", &[("X-Huge", &"h".repeat(512 * 1024))], b""),
            Refused,
        ),
        // Not HTTP at all
        case(
            "garbage on the Lambda port",
            Lambda,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(),
            Refused,
        ),
        case("garbage on the HTTP port", Http, b"HELLO THERE\r\n\r\n".to_vec(), Refused),
        case("garbage on the WebSocket port", WebSocket, b"\x00\x01\x02\x03\r\n\r\n".to_vec(), Refused),
        case(
            "a WebSocket upgrade without its key",
            WebSocket,
            request(
                "GET",
                "/",
                &[("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")],
                b"",
            ),
            Refused,
        ),
    ];
    // The guard: `Host` values no SDK sends, for a ListQueues the guard must refuse.
    let odd_hosts: [(&'static str, &[u8]); 4] = [
        ("guard: a Host whose port is no number", b"127.0.0.1:http"),
        ("guard: a Host with an unclosed IPv6 bracket", b"[::1"),
        ("guard: an empty Host", b""),
        ("guard: a Host not UTF-8", b"\xff\xfe.localhost"),
    ];
    for (name, host) in odd_hosts {
        let raw = request_for_host(host, "POST", "/", &[FORM], LIST_QUEUES);
        cases.push(case(name, Lambda, raw, Error(403, "AccessDenied")));
    }
    cases
}

/// Sends `raw` and returns the status line's code and the whole answer (headers, where the Lambda API names its
/// error type, and body), or `None` if the connection closed without an answer. Panics if nothing happens within
/// 20 s (a hang).
async fn exchange(port: u16, raw: &[u8]) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The server may answer (413, 431) and close before reading everything.
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer and no close within 20 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    Some((status, text))
}

fn port_of(emulator: &Emulator, port: Port) -> u16 {
    let endpoints = emulator.endpoints();
    match port {
        Port::Lambda => endpoints.lambda_port,
        Port::Http => endpoints.http_port,
        Port::WebSocket => endpoints.websocket_port,
    }
}

async fn still_serving(emulator: &Emulator) {
    let output = lambda_client(emulator).invoke().function_name("web").send().await;
    assert!(output.is_ok(), "the emulator still serves: {output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_aws_shaped_errors_and_the_emulator_keeps_serving() {
    count_panics();
    let emulator = start(http_options()).await;
    let sqs = sqs_client(&emulator);
    let queue_url = sqs.create_queue().queue_name("malformed").send().await.unwrap().queue_url.unwrap();
    let cases = corpus(&queue_url);
    for case in &cases {
        let answer = exchange(port_of(&emulator, case.port), &case.raw).await;
        match (&case.expect, &answer) {
            (Expect::Error(status, error_type), Some((got, body))) => {
                assert_eq!(got, status, "{}: {body}", case.name);
                assert!(body.contains(error_type), "{}: `{error_type}` missing from {body}", case.name);
                if !error_type.is_empty() {
                    assert!(body.to_lowercase().contains("message"), "{}: an error message in {body}", case.name);
                }
            }
            (Expect::Refused, None) => {}
            (Expect::Refused, Some((got, body))) => assert!((400..500).contains(got), "{}: {got} {body}", case.name),
            (Expect::Error(..), None) => panic!("{}: the connection closed without an answer", case.name),
        }
    }
    still_serving(&emulator).await;
    println!("malformed: {} requests, each refused with an AWS-shaped error or a closed connection", cases.len());
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "nothing panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_websocket_frames_close_that_connection_only() {
    count_panics();
    let emulator = start(http_options()).await;
    let url = emulator.endpoints().websocket_url();
    let frames: Vec<(&str, Vec<u8>)> = vec![
        // A text frame announcing 100 bytes, then only 10, then the client goes away.
        ("truncated frame", [vec![0x81, 0x80 | 100, 1, 2, 3, 4], vec![b'a'; 10]].concat()),
        // A text frame of 64 KB, over API Gateway's 32 KB frame limit.
        (
            "oversize frame",
            [vec![0x81, 0x80 | 127], 65536u64.to_be_bytes().to_vec(), vec![0; 4], vec![b'a'; 65536]].concat(),
        ),
        // Invalid UTF-8 in a text frame.
        ("invalid UTF-8", vec![0x81, 0x80 | 2, 0, 0, 0, 0, 0xff, 0xfe]),
        // An unmasked client frame, which RFC 6455 forbids.
        ("unmasked frame", vec![0x81, 2, b'h', b'i']),
        // A reserved opcode.
        ("reserved opcode", vec![0x83, 0x80, 0, 0, 0, 0]),
    ];
    for (name, frame) in &frames {
        let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let mut stream = socket.into_inner();
        let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = &mut stream else { unreachable!("plain ws://") };
        let _ = tcp.write_all(frame).await;
        let _ = tcp.shutdown().await;
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "{name}: the server closes the connection");
    }
    assert!(eventually(Duration::from_secs(5), || emulator.websocket_connection_ids().is_empty()).await);
    let (mut healthy, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    use futures_util::SinkExt;
    healthy.send(tokio_tungstenite::tungstenite::Message::text("{}")).await.unwrap();
    still_serving(&emulator).await;
    println!("malformed: {} broken WebSocket frames, each closing only its own connection", frames.len());
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "nothing panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_send_its_headers_is_cut_off_while_others_are_served() {
    let emulator = start(http_options()).await;
    let started = std::time::Instant::now();
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", emulator.endpoints().http_port)).await.unwrap();
    slow.write_all(b"GET /dev/web/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    still_serving(&emulator).await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(45), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the slow connection is closed");
    let waited = started.elapsed();
    assert!(
        waited >= ftb_offline::server::HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "after the header timeout, not before: {waited:?}"
    );
}
