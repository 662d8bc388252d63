//! S3 through the stock `aws-sdk-s3` client, the AWS CLI, curl's SigV4 signing and headless Chromium, against
//! buckets from `tests/fixtures/triggers/s3.yml`: objects put, read, listed, copied and deleted, a 20 MB multipart
//! upload, S3's errors; `s3` events invoking Node.js functions with the record S3 sends, notifications to a queue
//! and (set through the API) to a topic; a presigned PUT from a web page that the bucket's CORS rules allow.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use ftb_offline_tests::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

async fn receive_one(sqs: &aws_sdk_sqs::Client, url: &str) -> Value {
    let received = sqs.receive_message().queue_url(url).wait_time_seconds(5).send().await.unwrap();
    let message = received.messages().first().unwrap_or_else(|| panic!("nothing arrived in {url}"));
    sqs.delete_message().queue_url(url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
    serde_json::from_str(message.body().unwrap()).unwrap()
}

#[tokio::test]
async fn objects_round_trip_with_a_20_mb_multipart_upload_and_s3s_errors() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(s3_options(events.path())).await;
    let s3 = s3_client(&emulator);
    s3.create_bucket().bucket("work").send().await.unwrap();
    let buckets: Vec<String> =
        s3.list_buckets().send().await.unwrap().buckets().iter().filter_map(|b| b.name().map(String::from)).collect();
    for name in ["ftb-uploads", "ftb-documents", "work"] {
        assert!(buckets.contains(&name.to_string()), "{name}: {buckets:?}");
    }

    let put = s3
        .put_object()
        .bucket("work")
        .key("notes/a b.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(format!("\"{:x}\"", md5::compute(b"hello")).as_str()));
    let got = s3.get_object().bucket("work").key("notes/a b.txt").send().await.unwrap();
    assert_eq!(got.content_length(), Some(5));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello");
    s3.copy_object().bucket("work").key("notes/copy.txt").copy_source("work/notes/a%20b.txt").send().await.unwrap();
    s3.put_object().bucket("work").key("top.txt").body(ByteStream::from_static(b"x")).send().await.unwrap();
    let listed = s3.list_objects_v2().bucket("work").prefix("notes/").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["notes/a b.txt", "notes/copy.txt"]);

    // 20 MB in four parts of 5 MB, read back whole.
    let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let upload = s3.create_multipart_upload().bucket("work").key("big.bin").send().await.unwrap();
    let upload_id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for (i, chunk) in data.chunks(5 * 1024 * 1024).enumerate() {
        let number = i as i32 + 1;
        let part = s3
            .upload_part()
            .bucket("work")
            .key("big.bin")
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(chunk.to_vec()))
            .send()
            .await
            .unwrap();
        parts.push(CompletedPart::builder().part_number(number).e_tag(part.e_tag().unwrap()).build());
    }
    let listed_parts = s3.list_parts().bucket("work").key("big.bin").upload_id(upload_id).send().await.unwrap();
    assert_eq!(listed_parts.parts().len(), 4);
    let completed = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
    s3.complete_multipart_upload()
        .bucket("work")
        .key("big.bin")
        .upload_id(upload_id)
        .multipart_upload(completed)
        .send()
        .await
        .unwrap();
    let big = s3.get_object().bucket("work").key("big.bin").send().await.unwrap();
    let read = big.body.collect().await.unwrap().into_bytes();
    assert_eq!(read.len(), data.len());
    assert_eq!(Sha256::digest(&read), Sha256::digest(&data), "the same 20 MB came back");

    // S3's errors.
    let missing = s3.get_object().bucket("work").key("absent").send().await.unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchKey"));
    let no_bucket = s3.list_objects_v2().bucket("nowhere").send().await.unwrap_err();
    assert_eq!(no_bucket.code(), Some("NoSuchBucket"));
    let again = s3.create_bucket().bucket("work").send().await.unwrap_err();
    assert_eq!(again.code(), Some("BucketAlreadyOwnedByYou"));
    let not_empty = s3.delete_bucket().bucket("work").send().await.unwrap_err();
    assert_eq!(not_empty.code(), Some("BucketNotEmpty"));
    let unsigned = reqwest::get(format!("{}/work/top.txt", emulator.endpoints().s3_url())).await.unwrap();
    assert_eq!(unsigned.status(), 403, "an anonymous request is refused, as for a private bucket");
    assert!(unsigned.text().await.unwrap().contains("<Code>AccessDenied</Code>"));
    let stranger = {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-north-1"))
            .credentials_provider(Credentials::new("AKIAUNKNOWN", "secret", None, None, "test"))
            .endpoint_url(emulator.endpoints().s3_url())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    };
    let refused = stranger.list_objects_v2().bucket("work").send().await.unwrap_err();
    assert_eq!(refused.code(), Some("InvalidAccessKeyId"));

    // Deleting, one and many; then the empty bucket.
    s3.delete_object().bucket("work").key("top.txt").send().await.unwrap();
    let many = Delete::builder()
        .objects(ObjectIdentifier::builder().key("notes/a b.txt").build().unwrap())
        .objects(ObjectIdentifier::builder().key("notes/copy.txt").build().unwrap())
        .objects(ObjectIdentifier::builder().key("big.bin").build().unwrap())
        .build()
        .unwrap();
    s3.delete_objects().bucket("work").delete(many).send().await.unwrap();
    assert!(s3.list_objects_v2().bucket("work").send().await.unwrap().contents().is_empty());
    s3.delete_bucket().bucket("work").send().await.unwrap();
}

#[tokio::test]
async fn s3_events_reach_functions_queues_and_topics_with_the_record_s3_sends() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(s3_options(events.path())).await;
    let (s3, sqs, sns) = (s3_client(&emulator), sqs_client(&emulator), sns_client(&emulator));
    let put = |key: &'static str, body: &'static [u8]| {
        s3.put_object().bucket("ftb-uploads").key(key).body(ByteStream::from_static(body)).send()
    };
    put("incoming/notes.txt", b"not a picture").await.unwrap();
    put("elsewhere/a.jpg", b"not under incoming/").await.unwrap();
    put("incoming/red flower.jpg", b"a red flower").await.unwrap();

    // Only the key matching the prefix and suffix rules invokes the function, with S3's record.
    let calls = invocations(events.path(), "onUpload", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(recorded_lines(events.path(), "onUpload.jsonl").len(), 1, "the other two keys were filtered out");
    let records = calls[0]["event"]["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["eventVersion"], "2.1");
    assert_eq!(record["eventSource"], "aws:s3");
    assert_eq!(record["awsRegion"], "eu-north-1");
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert!(record["eventTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(record["userIdentity"]["principalId"], "AWS:test");
    assert!(record["responseElements"]["x-amz-request-id"].is_string());
    let s3_part = &record["s3"];
    assert_eq!(s3_part["s3SchemaVersion"], "1.0");
    assert!(s3_part["configurationId"].is_string());
    assert_eq!(s3_part["bucket"]["name"], "ftb-uploads");
    assert_eq!(s3_part["bucket"]["arn"], "arn:aws:s3:::ftb-uploads");
    let object = &s3_part["object"];
    assert_eq!(object["key"], "incoming/red+flower.jpg", "keys are form-encoded in events");
    assert_eq!(object["size"], 12);
    assert_eq!(object["eTag"], format!("{:x}", md5::compute(b"a red flower")), "unquoted");
    assert!(object["sequencer"].as_str().is_some_and(|s| !s.is_empty()));

    // A copy is ObjectCreated:Copy; a removal reaches the other function, without size or eTag.
    let copy = s3
        .copy_object()
        .bucket("ftb-uploads")
        .key("incoming/copy.jpg")
        .copy_source("ftb-uploads/incoming/red%20flower.jpg");
    copy.send().await.unwrap();
    let calls = invocations(events.path(), "onUpload", 2).await;
    assert_eq!(calls[1]["event"]["Records"][0]["eventName"], "ObjectCreated:Copy");
    s3.delete_object().bucket("ftb-uploads").key("incoming/red flower.jpg").send().await.unwrap();
    let removals = invocations(events.path(), "onRemove", 1).await;
    let removed = &removals[0]["event"]["Records"][0];
    assert_eq!(removed["eventName"], "ObjectRemoved:Delete");
    assert_eq!(removed["s3"]["object"]["key"], "incoming/red+flower.jpg");
    assert!(removed["s3"]["object"].get("size").is_none() && removed["s3"]["object"].get("eTag").is_none());

    // The resource bucket's NotificationConfiguration: .pdf objects to the queue.
    let documents_queue = format!("{}/000000000000/document-events", emulator.endpoints().lambda_url());
    let upload = |key: &'static str| {
        s3.put_object().bucket("ftb-documents").key(key).body(ByteStream::from_static(b"%PDF")).send()
    };
    upload("reports/q1.txt").await.unwrap();
    upload("reports/q1.pdf").await.unwrap();
    let message = receive_one(&sqs, &documents_queue).await;
    assert_eq!(message["Records"][0]["eventName"], "ObjectCreated:Put");
    assert_eq!(message["Records"][0]["s3"]["object"]["key"], "reports/q1.pdf");

    // A notification set through the API, to a topic whose queue receives S3's message in SNS's envelope.
    let topic = sns.create_topic().name("uploads").send().await.unwrap().topic_arn.unwrap();
    let inbox = sqs.create_queue().queue_name("uploads-inbox").send().await.unwrap().queue_url.unwrap();
    let inbox_arn = "arn:aws:sqs:eu-north-1:000000000000:uploads-inbox";
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(inbox_arn).send().await.unwrap();
    s3.create_bucket().bucket("api-bucket").send().await.unwrap();
    let configuration = aws_sdk_s3::types::NotificationConfiguration::builder()
        .topic_configurations(
            aws_sdk_s3::types::TopicConfiguration::builder()
                .id("to-topic")
                .topic_arn(&topic)
                .events(aws_sdk_s3::types::Event::S3ObjectCreated)
                .build()
                .unwrap(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket("api-bucket")
        .notification_configuration(configuration)
        .send()
        .await
        .unwrap();
    let shown = s3.get_bucket_notification_configuration().bucket("api-bucket").send().await.unwrap();
    assert_eq!(shown.topic_configurations()[0].id(), Some("to-topic"));
    s3.put_object().bucket("api-bucket").key("k").body(ByteStream::from_static(b"v")).send().await.unwrap();
    let envelope = receive_one(&sqs, &inbox).await;
    assert_eq!(envelope["Subject"], "Amazon S3 Notification");
    let inner: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(inner["Records"][0]["s3"]["configurationId"], "to-topic");
    assert_eq!(inner["Records"][0]["s3"]["bucket"]["name"], "api-bucket");
}

#[tokio::test]
async fn a_web_page_uploads_through_a_presigned_url_that_the_buckets_cors_rules_allow() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(s3_options(events.path())).await;
    let s3 = s3_client(&emulator);
    let presigned = s3
        .put_object()
        .bucket("ftb-documents")
        .key("from-the-browser.txt")
        .content_type("text/plain")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let plan = serde_json::json!({"url": presigned.uri(), "body": "uploaded by a page"});
    let seen = run_browser_script("presigned_put.mjs", &[plan.to_string().as_ref()]).await;
    let allowed = seen["allowed"].as_str().unwrap();
    assert!(allowed.starts_with("200 \""), "the allowed origin's PUT, with the exposed ETag: {seen}");
    assert!(seen["refused"].as_str().unwrap().starts_with("refused:"), "another origin is stopped by CORS: {seen}");
    let stored = s3.get_object().bucket("ftb-documents").key("from-the-browser.txt").send().await.unwrap();
    assert_eq!(stored.body.collect().await.unwrap().into_bytes().as_ref(), b"uploaded by a page");
    // The preflights S3 refuses, answered as S3 answers them.
    let preflight = |path: &str, origin: &str, method: Option<&str>| {
        let request = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{}{path}", emulator.endpoints().s3_url()))
            .header("Origin", origin);
        match method {
            Some(method) => request.header("Access-Control-Request-Method", method),
            None => request,
        }
        .send()
    };
    for (path, origin, method, why) in [
        ("/ftb-documents/k", "https://evil.example", Some("PUT"), "This CORS request is not allowed"),
        ("/ftb-documents/k", "http://127.0.0.1:3000", Some("DELETE"), "This CORS request is not allowed"),
        ("/ftb-documents/k", "http://127.0.0.1:3000", None, "This CORS request is not allowed"),
        ("/ftb-uploads/k", "http://127.0.0.1:3000", Some("PUT"), "CORS is not enabled for this bucket"),
        ("/nowhere/k", "http://127.0.0.1:3000", Some("PUT"), "Bucket not found"),
    ] {
        let answer = preflight(path, origin, method).await.unwrap();
        assert_eq!(answer.status(), 403, "{path} from {origin}");
        let text = answer.text().await.unwrap();
        assert!(text.contains("<Code>AccessForbidden</Code>") && text.contains(why), "{path} {origin}: {text}");
    }
    let allowed = preflight("/ftb-documents/k", "http://127.0.0.1:3000", Some("PUT")).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://127.0.0.1:3000");
    let rules = s3.get_bucket_cors().bucket("ftb-documents").send().await.unwrap();
    assert_eq!(rules.cors_rules()[0].allowed_methods(), ["GET", "PUT"]);
    let none = s3.get_bucket_cors().bucket("ftb-uploads").send().await.unwrap_err();
    assert_eq!(none.code(), Some("NoSuchCORSConfiguration"));
}

#[tokio::test]
async fn the_aws_cli_and_virtual_hosted_requests_reach_the_same_objects() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(s3_options(events.path())).await;
    let endpoint = emulator.endpoints().s3_url();
    let file = events.path().join("report.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    let copied = aws_cli()
        .args([
            "s3",
            "cp",
            file.to_str().unwrap(),
            "s3://ftb-documents/reports/report.csv",
            "--endpoint-url",
            &endpoint,
        ])
        .output()
        .await
        .unwrap();
    assert!(copied.status.success(), "{}", String::from_utf8_lossy(&copied.stderr));
    let listed = aws_cli()
        .args(["s3api", "list-objects-v2", "--bucket", "ftb-documents", "--endpoint-url", &endpoint])
        .output()
        .await
        .unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["Contents"][0]["Key"], "reports/report.csv");
    assert_eq!(listed["Contents"][0]["Size"], 8);

    // Virtual-hosted style: the bucket in the host name (`<bucket>.localhost`), signed by curl.
    let port = emulator.endpoints().s3_port;
    let output = tokio::process::Command::new("curl")
        .args(["-s", "--aws-sigv4", "aws:amz:eu-north-1:s3", "--user", "test:test"])
        .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
        .args(["--connect-to", &format!("ftb-documents.localhost:{port}:127.0.0.1:{port}")])
        .arg(format!("http://ftb-documents.localhost:{port}/reports/report.csv"))
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "a,b\n1,2\n", "{}", String::from_utf8_lossy(&output.stderr));
    let missing = aws_cli()
        .args(["s3api", "head-object", "--bucket", "ftb-documents", "--key", "absent", "--endpoint-url", &endpoint])
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"), "{}", String::from_utf8_lossy(&missing.stderr));
}

#[tokio::test]
async fn objects_without_persist_live_in_a_folder_removed_at_stop_or_by_the_next_emulator() {
    // A folder left by an emulator killed with SIGKILL: its owner's pid no longer runs.
    let gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    let mut gone = gone;
    gone.wait().unwrap();
    let left = std::env::temp_dir().join(format!("ftb-offline-s3-killed-{}", std::process::id()));
    std::fs::create_dir_all(left.join("a-bucket")).unwrap();
    std::fs::write(left.join("owner.pid"), dead_pid.to_string()).unwrap();

    let events = tempfile::tempdir().unwrap();
    let emulator = start(s3_options(events.path())).await;
    assert!(!left.exists(), "the next emulator removes what a killed one left");
    let root = emulator.s3_buckets().root().to_path_buf();
    assert!(root.join("ftb-uploads").is_dir(), "the app's buckets are folders in {}", root.display());
    emulator.stop().await;
    assert!(!root.exists(), "without --persist the objects go when the emulator stops");
}
