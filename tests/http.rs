//! API Gateway's HTTP side end to end: real HTTP requests (reqwest) → REST API (payload 1.0) and HTTP API
//! (payload 2.0) → real handler processes (one written with `lambda_http`) → responses, errors and CORS.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use base64::Engine;
use ftb_offline_tests::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

fn url(emulator: &ftb_offline::Emulator, path: &str) -> String {
    format!("{}{path}", emulator.endpoints().http_url())
}

async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[tokio::test]
async fn rest_events_have_payload_1_0_as_aws_sends_it() {
    let emulator = start(http_options()).await;
    let response = reqwest::Client::new()
        .get(url(&emulator, "/dev/items/42?tag=a&tag=b&q=x%20y"))
        .header("x-custom", "one")
        .header("user-agent", "ftb-tests")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let event = json_of(response).await;
    serde_json::from_value::<ApiGatewayProxyRequest>(event.clone()).expect("aws_lambda_events reads the REST event");
    let sample = aws_sample_event("example-apigw-request.json");
    let extra: Vec<_> = keys(&event).difference(&keys(&sample)).cloned().collect();
    assert!(keys(&sample).is_subset(&keys(&event)), "every top-level field of AWS's sample");
    assert_eq!(extra, ["isBase64Encoded"], "AWS documents isBase64Encoded for payload 1.0; the old sample predates it");
    let context_keys = keys(&event["requestContext"]);
    let missing: Vec<_> = keys(&sample["requestContext"]).difference(&context_keys).cloned().collect();
    assert_eq!(
        missing,
        ["authorizer"],
        "requestContext has every sample field but the authorizer's (no authorizer here)"
    );
    assert!(keys(&sample["requestContext"]["identity"]).is_subset(&keys(&event["requestContext"]["identity"])));
    assert_eq!(event["resource"], "/items/{id}");
    assert_eq!(event["path"], "/items/42");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"], serde_json::json!({"id": "42"}));
    assert_eq!(event["queryStringParameters"]["tag"], "b", "the single-value map keeps the last value");
    assert_eq!(event["queryStringParameters"]["q"], "x y");
    assert_eq!(event["multiValueQueryStringParameters"]["tag"], serde_json::json!(["a", "b"]));
    assert_eq!(event["headers"]["X-Custom"], "one");
    assert_eq!(event["multiValueHeaders"]["X-Custom"], serde_json::json!(["one"]));
    assert_eq!(event["body"], Value::Null);
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!((context["stage"].as_str(), context["path"].as_str()), (Some("dev"), Some("/dev/items/42")));
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["identity"]["userAgent"], "ftb-tests");
    assert_eq!(context["accountId"], "000000000000");
    let now = chrono_now_ms();
    assert!((context["requestTimeEpoch"].as_i64().unwrap() - now).abs() < 10_000);
}

#[tokio::test]
async fn http_api_events_have_payload_2_0_as_aws_sends_it() {
    let emulator = start(http_options()).await;
    let response = reqwest::Client::new()
        .get(url(&emulator, "/v2/items/7?tag=a&tag=b"))
        .header("cookie", "session=abc; theme=dark")
        .header("x-custom", "one")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("apigw-requestid"));
    let event = json_of(response).await;
    serde_json::from_value::<ApiGatewayV2httpRequest>(event.clone())
        .expect("aws_lambda_events reads the HTTP API event");
    let sample = aws_sample_event("example-apigw-v2-request-no-authorizer.json");
    let missing: Vec<_> = keys(&sample).difference(&keys(&event)).cloned().collect();
    assert!(missing.is_empty(), "missing top-level fields {missing:?}");
    let missing: Vec<_> =
        keys(&sample["requestContext"]).difference(&keys(&event["requestContext"])).cloned().collect();
    assert_eq!(missing, ["authentication"], "no mutual TLS here");
    assert_eq!(keys(&event["requestContext"]["http"]), keys(&sample["requestContext"]["http"]));
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /v2/items/{id}");
    assert_eq!(event["rawPath"], "/v2/items/7");
    assert_eq!(event["rawQueryString"], "tag=a&tag=b");
    assert_eq!(event["queryStringParameters"]["tag"], "a,b", "repeated values are comma-joined");
    assert_eq!(event["cookies"], serde_json::json!(["session=abc", "theme=dark"]));
    assert!(event["headers"].get("cookie").is_none(), "cookies move out of the headers");
    assert_eq!(event["headers"]["x-custom"], "one");
    assert_eq!(event["pathParameters"]["id"], "7");
    let spaced = json_of(reqwest::get(url(&emulator, "/v2/items/a%20b")).await.unwrap()).await;
    assert_eq!(spaced["rawPath"], "/v2/items/a b", "HTTP APIs hand the path over decoded");
    assert_eq!(spaced["requestContext"]["http"]["path"], "/v2/items/a b");
    assert_eq!(event["requestContext"]["stage"], "$default");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
}

#[tokio::test]
async fn a_lambda_http_handler_is_served_on_both_apis() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    for (path, api) in [("/dev/web/a/b?tag=x&tag=y", "rest"), ("/api/a/b?tag=x&tag=y", "http-api")] {
        let response = client
            .post(url(&emulator, path))
            .header("x-custom", "c")
            .header("content-type", "application/json")
            .body(r#"{"k":1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{path}");
        assert_eq!(response.headers()["x-handled-by"], "lambda_http");
        let report = json_of(response).await;
        assert_eq!(report["api"], api);
        assert_eq!(report["method"], "POST");
        assert_eq!(report["proxy"], "a/b");
        assert_eq!(report["tags"], serde_json::json!(["x", "y"]));
        assert_eq!(report["custom"], "c");
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(report["body"].as_str().unwrap()).unwrap(),
            br#"{"k":1}"#
        );
    }
}

#[tokio::test]
async fn binary_bodies_round_trip_base64_encoded() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    for (path, content_type) in [("/dev/web/upload", "image/png"), ("/api/upload", "application/octet-stream")] {
        let report = json_of(
            client
                .post(url(&emulator, path))
                .header("content-type", content_type)
                .body(bytes.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(report["body"].as_str().unwrap()).unwrap(),
            bytes,
            "{path}: the handler got the exact bytes"
        );
    }
    for path in ["/dev/web/binary", "/api/binary"] {
        let response = client.get(url(&emulator, path)).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(
            &response.bytes().await.unwrap()[..],
            &[0x89, b'P', b'N', b'G', 0x00, 0xff, 0xfe, 0x10],
            "{path}: the gateway decoded the base64 body"
        );
    }
    let event = json_of(
        client
            .get(url(&emulator, "/v2/items/1"))
            .header("content-type", "image/png")
            .body(vec![1u8, 2, 250])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((event["isBase64Encoded"].as_bool(), event["body"].as_str()), (Some(true), Some("AQL6")));
}

#[tokio::test]
async fn the_most_specific_route_wins_and_unknown_routes_get_aws_errors() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    let special = json_of(client.get(url(&emulator, "/dev/items/special")).send().await.unwrap()).await;
    assert_eq!(special["resource"], "/items/special");
    let param = json_of(client.get(url(&emulator, "/dev/items/other")).send().await.unwrap()).await;
    assert_eq!(param["resource"], "/items/{id}");
    let posted = json_of(client.post(url(&emulator, "/dev/items")).send().await.unwrap()).await;
    assert_eq!((posted["resource"].as_str(), posted["httpMethod"].as_str()), (Some("/items"), Some("POST")));
    for (method, path) in [("GET", "/dev/nothing"), ("DELETE", "/dev/items/1"), ("GET", "/dev")] {
        let response = client.request(method.parse().unwrap(), url(&emulator, path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        assert_eq!(response.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
        assert_eq!(response.text().await.unwrap(), r#"{"message":"Missing Authentication Token"}"#);
    }
    let response = client.get(url(&emulator, "/v2/nothing")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), r#"{"message":"Not Found"}"#);
}

#[tokio::test]
async fn function_errors_and_malformed_responses_map_to_each_apis_error() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    let expect = |status: u16, body: &'static str| {
        move |response: reqwest::Response| async move {
            assert_eq!(response.status(), status);
            assert_eq!(response.text().await.unwrap(), body);
        }
    };
    expect(502, r#"{"message": "Internal server error"}"#)(
        client.post(url(&emulator, "/dev/crash")).body(r#"{"mode":"error"}"#).send().await.unwrap(),
    )
    .await;
    expect(500, r#"{"message":"Internal Server Error"}"#)(
        client.post(url(&emulator, "/v2/crash")).body(r#"{"mode":"panic"}"#).send().await.unwrap(),
    )
    .await;
    expect(502, r#"{"message": "Internal server error"}"#)(
        client.get(url(&emulator, "/dev/malformed")).send().await.unwrap(),
    )
    .await;
    let simplified = client.get(url(&emulator, "/v2/simplified")).send().await.unwrap();
    assert_eq!(simplified.status(), 200, "payload 2.0 takes a bare JSON object as a 200");
    assert_eq!(simplified.headers()["content-type"], "application/json");
    assert_eq!(json_of(simplified).await["event"]["routeKey"], "GET /v2/simplified");
    // A function that times out (1 s) before the integration does is a function error, as on AWS.
    expect(502, r#"{"message": "Internal server error"}"#)(
        client.post(url(&emulator, "/dev/slow")).body(r#"{"ms":3000}"#).send().await.unwrap(),
    )
    .await;
    expect(500, r#"{"message":"Internal Server Error"}"#)(
        client.post(url(&emulator, "/v2/slow")).body(r#"{"ms":3000}"#).send().await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn integration_timeouts_answer_504_and_503() {
    let mut options = http_options();
    options.integration_timeout = Some(Duration::from_millis(400));
    let emulator = start(options).await;
    let client = reqwest::Client::new();
    let response = client.post(url(&emulator, "/dev/patient")).body(r#"{"ms":3000}"#).send().await.unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(response.text().await.unwrap(), r#"{"message": "Endpoint request timed out"}"#);
    let response = client.post(url(&emulator, "/v2/patient")).body(r#"{"ms":3000}"#).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), r#"{"message":"Service Unavailable"}"#);
}

#[tokio::test]
async fn a_client_that_goes_away_mid_request_leaves_the_function_to_finish_on_a_warm_process() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    let warm = json_of(client.post(url(&emulator, "/v2/patient")).body(r#"{"ms":0}"#).send().await.unwrap()).await;
    // The client gives up while the handler sleeps and resets its connection, as a load generator does at the
    // end of its run.
    let http = emulator.endpoints().http_url();
    let address = http.trim_start_matches("http://");
    let request = format!("POST /v2/patient HTTP/1.1\r\nHost: {address}\r\nContent-Length: 10\r\n\r\n{{\"ms\":600}}");
    send_then_reset(address, request.as_bytes(), Duration::from_millis(150)).await;
    // On Lambda the invocation runs to its end and its environment stays warm: the next request, once the first
    // has finished, is answered by the same process. (Dropped with the connection, it used to be killed.)
    let pool = emulator.lambda().find("patient").unwrap();
    let back = eventually(Duration::from_secs(10), || pool.busy_processes() == 0 && pool.idle_workers() == 1).await;
    assert!(back, "the abandoned request's invocation ended and its process is warm again");
    let next = json_of(client.post(url(&emulator, "/v2/patient")).body(r#"{"ms":0}"#).send().await.unwrap()).await;
    assert_eq!(next["pid"], warm["pid"], "the process that served the abandoned request serves the next one");
    emulator.stop().await;
}

#[tokio::test]
async fn bodies_over_10_mb_are_refused_with_413() {
    let emulator = start(http_options()).await;
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let response = reqwest::Client::new().post(url(&emulator, "/dev/items")).body(big).send().await.unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn cors_preflight_is_answered_by_the_gateway_for_allowed_origins_only() {
    let emulator = start(http_options()).await;
    let client = reqwest::Client::new();
    let preflight = |path: &'static str, origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, url(&emulator, path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("/dev/items/1", "http://localhost:4200").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://localhost:4200");
    assert_eq!(allowed.headers()["access-control-allow-methods"], "OPTIONS,GET");
    assert_eq!(allowed.headers()["access-control-allow-headers"], "Content-Type,X-Custom");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("/dev/items/1", "http://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    let allowed = preflight("/v2/items/1", "http://localhost:4200").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://localhost:4200");
    assert_eq!(allowed.headers()["access-control-max-age"], "600");
    let refused = preflight("/v2/items/1", "http://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    assert_eq!(emulator.lambda().find("event").unwrap().idle_workers(), 0, "no preflight invoked the function");
    let actual =
        client.get(url(&emulator, "/v2/items/1")).header("origin", "http://localhost:4200").send().await.unwrap();
    assert_eq!(actual.headers()["access-control-allow-origin"], "http://localhost:4200");
    assert_eq!(actual.headers()["access-control-allow-credentials"], "true");
    let actual =
        client.get(url(&emulator, "/v2/items/1")).header("origin", "http://evil.example").send().await.unwrap();
    assert!(actual.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn no_prepend_stage_in_url_serves_rest_routes_at_the_root() {
    let mut options = http_options();
    options.load.params.insert("noPrepend".into(), "true".into());
    let emulator = start(options).await;
    let event = json_of(reqwest::get(url(&emulator, "/items/5")).await.unwrap()).await;
    assert_eq!(
        (event["resource"].as_str(), event["requestContext"]["stage"].as_str()),
        (Some("/items/{id}"), Some("dev"))
    );
    assert_eq!(reqwest::get(url(&emulator, "/dev/items/5")).await.unwrap().status(), 403);
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn streamed_responses_from_lambda_runtime_are_served() {
    let emulator = start(http_options()).await;
    for path in ["/dev/stream", "/v2/stream"] {
        let response = reqwest::get(url(&emulator, path)).await.unwrap();
        assert_eq!(response.status(), 201, "{path}");
        assert_eq!(response.headers()["x-streamed"], "yes");
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.headers()["set-cookie"], "flavour=chunky");
        assert_eq!(response.text().await.unwrap(), "one,two,three", "{path}: the chunks, in order");
    }
}

#[tokio::test]
async fn function_urls_get_lambdas_url_event_at_their_printed_url() {
    let emulator = start(urls_options()).await;
    let echo = format!("{}/lambda-url/echo/", emulator.endpoints().http_url());
    let response = reqwest::Client::new()
        .post(format!("{echo}custom/path?b=2&a=1&a=3"))
        .header("content-type", "application/json")
        .header("cookie", "flavour=plain; size=large")
        .body(r#"{"hello":"url"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let event = json_of(response).await;
    serde_json::from_value::<ApiGatewayV2httpRequest>(event.clone()).expect("aws_lambda_events reads the URL event");
    assert_eq!((event["version"].as_str(), event["routeKey"].as_str()), (Some("2.0"), Some("$default")));
    assert_eq!(event["rawPath"], "/custom/path", "the path inside the URL, from `/`");
    assert_eq!(event["rawQueryString"], "b=2&a=1&a=3");
    assert_eq!(event["queryStringParameters"], serde_json::json!({"a": "1,3", "b": "2"}));
    assert_eq!(event["cookies"], serde_json::json!(["flavour=plain", "size=large"]));
    assert_eq!(event["headers"]["cookie"], "flavour=plain; size=large", "a URL event keeps the cookie header");
    assert_eq!(event["headers"]["x-forwarded-proto"], "http");
    assert!(event["headers"]["x-amzn-trace-id"].as_str().is_some_and(|t| t.starts_with("Root=1-")));
    assert_eq!((event["body"].as_str(), event["isBase64Encoded"].as_bool()), (Some(r#"{"hello":"url"}"#), Some(false)));
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], "anonymous");
    let url_id = context["apiId"].as_str().unwrap();
    assert!(url_id.len() == 32 && url_id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{url_id}");
    assert_eq!(context["domainName"], format!("{url_id}.lambda-url.eu-north-1.on.aws"));
    assert_eq!(
        (context["http"]["method"].as_str(), context["http"]["path"].as_str()),
        (Some("POST"), Some("/custom/path"))
    );
    assert!(event.get("pathParameters").is_none() && event.get("stageVariables").is_none());

    let bare = reqwest::get(echo.trim_end_matches('/')).await.unwrap();
    assert_eq!(json_of(bare).await["rawPath"], "/");
    let untyped = reqwest::Client::new().post(&echo).body("raw bytes").send().await.unwrap();
    let event = json_of(untyped).await;
    assert_eq!(event["isBase64Encoded"], true, "a body without a content type is base64-encoded, as Lambda does");
    assert_eq!(event["body"], base64::engine::general_purpose::STANDARD.encode("raw bytes"));

    let crash_url = format!("{}/lambda-url/crash/", emulator.endpoints().http_url());
    let crash = reqwest::Client::new()
        .post(crash_url)
        .header("content-type", "application/json")
        .body(r#"{"mode":"error"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(crash.status(), 502);
    assert_eq!(crash.text().await.unwrap(), "Internal Server Error");
    let none = reqwest::get(format!("{}/lambda-url/plain/", emulator.endpoints().http_url())).await.unwrap();
    assert_eq!(none.status(), 403, "a function without `url` has no URL");
    assert_eq!(none.headers()["x-amzn-errortype"], "AccessDeniedException");
    assert_eq!(none.text().await.unwrap(), r#"{"Message":null}"#);

    let streamed = reqwest::get(format!("{}/lambda-url/stream/", emulator.endpoints().http_url())).await.unwrap();
    assert_eq!((streamed.status().as_u16(), streamed.headers()["x-streamed"].to_str().unwrap()), (201, "yes"));
    assert_eq!(streamed.text().await.unwrap(), "one,two,three");

    let view = ftb_offline::view::resolved_view(&emulator.service(), emulator.endpoints(), [None, None]).unwrap();
    assert_eq!(view["functions"]["plain"]["environment"]["ECHO_URL"], echo.as_str(), "Fn::GetAtt …Url.FunctionUrl");
    assert_eq!(view["functions"]["echo"]["url"]["url"], echo.as_str(), "`config` shows each function's URL");
}

#[tokio::test]
async fn function_url_cors_is_lambdas_own() {
    let emulator = start(urls_options()).await;
    let shared = format!("{}/lambda-url/shared/", emulator.endpoints().http_url());
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &shared)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("http://localhost:4200").await.unwrap();
    assert_eq!(allowed.status(), 200, "Lambda answers the preflight; the function is not invoked");
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:4200");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-allow-methods"], "*");
    assert_eq!(headers["access-control-max-age"], "300");
    assert_eq!(headers["vary"], "Origin");
    assert!(allowed.text().await.unwrap().is_empty());
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));

    let actual = client.get(&shared).header("origin", "http://localhost:4200").send().await.unwrap();
    assert_eq!(actual.headers()["access-control-allow-origin"], "http://localhost:4200");
    assert_eq!(actual.headers()["access-control-expose-headers"], "x-request-id");
    assert_eq!(json_of(actual).await["requestContext"]["http"]["method"], "GET", "the function answered");

    // `cors: true`: every origin, echoed; Serverless's default headers.
    let signed = format!("{}/lambda-url/signed/", emulator.endpoints().http_url());
    let open = client
        .request(reqwest::Method::OPTIONS, &signed)
        .header("origin", "http://anywhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(open.headers()["access-control-allow-origin"], "http://anywhere.example");
    assert_eq!(
        open.headers()["access-control-allow-headers"],
        "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amzn-Trace-Id"
    );
    // Without CORS, an OPTIONS request reaches the function.
    let echo = format!("{}/lambda-url/echo/", emulator.endpoints().http_url());
    let passed =
        client.request(reqwest::Method::OPTIONS, &echo).header("origin", "http://a.example").send().await.unwrap();
    assert_eq!(json_of(passed).await["requestContext"]["http"]["method"], "OPTIONS");
}

/// Reads a streamed body chunk by chunk: each chunk's text and how long after the headers it arrived.
async fn timed_chunks(mut response: reqwest::Response) -> (Vec<(String, Duration)>, Option<reqwest::Error>) {
    let headers_at = std::time::Instant::now();
    let mut chunks = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => chunks.push((String::from_utf8_lossy(&chunk).into_owned(), headers_at.elapsed())),
            Ok(None) => return (chunks, None),
            Err(err) => return (chunks, Some(err)),
        }
    }
}

#[tokio::test]
async fn a_streaming_function_url_sends_each_chunk_as_it_is_written() {
    let emulator = start(urls_options()).await;
    let stream = format!("{}/lambda-url/stream/", emulator.endpoints().http_url());
    let response = reqwest::get(format!("{stream}?delayMs=600")).await.unwrap();
    assert_eq!((response.status().as_u16(), response.headers()["x-streamed"].to_str().unwrap()), (201, "yes"));
    let (chunks, error) = timed_chunks(response).await;
    assert!(error.is_none(), "{error:?}");
    let text: String = chunks.iter().map(|(text, _)| text.as_str()).collect();
    assert_eq!(text, "one,two,three");
    let arrival = |part: &str| chunks.iter().find(|(text, _)| text.contains(part)).map(|(_, at)| *at).unwrap();
    // Each chunk arrives when written, 0.6 s after the one before (buffered, they would arrive together). Gaps,
    // not times since the headers, which a loaded machine may deliver late themselves.
    let gap = |earlier: &str, later: &str| arrival(later).saturating_sub(arrival(earlier));
    assert!(gap("one,", "two,") >= Duration::from_millis(500), "the second came when written: {chunks:?}");
    assert!(gap("two,", "three") >= Duration::from_millis(500), "the third came when written: {chunks:?}");
}
