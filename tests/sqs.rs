//! SQS end to end: every operation through the stock `aws-sdk-sqs` client, the AWS CLI, raw query-protocol
//! requests, SQS's semantics, and event source mappings with ReportBatchItemFailures and redrive to a
//! dead-letter queue consumed by its own function. (The attribute digests are checked against AWS's values in
//! the emulator's unit tests; neither the Rust SDK nor botocore verifies them.)

use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use ftb_offline::Emulator;
use ftb_offline_tests::*;
use std::collections::HashSet;
use std::time::Duration;

fn queue_url(emulator: &Emulator, name: &str) -> String {
    format!("{}/000000000000/{name}", emulator.endpoints().lambda_url())
}

#[tokio::test]
async fn every_operation_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let created = sqs
        .create_queue()
        .queue_name("runtime-queue")
        .attributes(QueueAttributeName::VisibilityTimeout, "7")
        .send()
        .await
        .unwrap();
    let url = created.queue_url().unwrap().to_string();
    assert_eq!(url, queue_url(&emulator, "runtime-queue"));
    assert_eq!(
        sqs.create_queue()
            .queue_name("runtime-queue")
            .attributes(QueueAttributeName::VisibilityTimeout, "7")
            .send()
            .await
            .unwrap()
            .queue_url(),
        Some(url.as_str()),
        "idempotent"
    );
    assert_eq!(sqs.get_queue_url().queue_name("runtime-queue").send().await.unwrap().queue_url(), Some(url.as_str()));
    let listed = sqs.list_queues().queue_name_prefix("runtime").send().await.unwrap();
    assert_eq!(listed.queue_urls(), std::slice::from_ref(&url));
    assert!(sqs.list_queues().send().await.unwrap().queue_urls().len() >= 6, "the queues from resources are there too");
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::DelaySeconds, "0")
        .attributes(QueueAttributeName::MaximumMessageSize, "2048")
        .send()
        .await
        .unwrap();
    let attributes =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(QueueAttributeName::All).send().await.unwrap();
    let attributes = attributes.attributes().unwrap();
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "7");
    assert_eq!(attributes[&QueueAttributeName::MaximumMessageSize], "2048");
    assert_eq!(attributes[&QueueAttributeName::QueueArn], "arn:aws:sqs:eu-north-1:000000000000:runtime-queue");

    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body("hello")
        .message_attributes(
            "kind",
            MessageAttributeValue::builder().data_type("String").string_value("greeting").build().unwrap(),
        )
        .message_attributes(
            "size",
            MessageAttributeValue::builder().data_type("Number").string_value("5").build().unwrap(),
        )
        .message_attributes(
            "blob",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(aws_sdk_sqs::primitives::Blob::new(vec![0u8, 1, 255]))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.md5_of_message_body(), Some("5d41402abc4b2a76b9719d911017c592"));
    let batch = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(SendMessageBatchRequestEntry::builder().id("a").message_body("one").build().unwrap())
        .entries(SendMessageBatchRequestEntry::builder().id("b").message_body("two").delay_seconds(1).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(batch.successful().len(), 2);

    let received = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 2, "the delayed message is not visible yet");
    let hello = messages.iter().find(|m| m.body() == Some("hello")).unwrap();
    assert_eq!(hello.message_attributes().unwrap()["kind"].string_value(), Some("greeting"));
    assert_eq!(hello.message_attributes().unwrap()["blob"].binary_value().unwrap().as_ref(), &[0u8, 1, 255]);
    let system = hello.attributes().unwrap();
    assert_eq!(system[&MessageSystemAttributeName::ApproximateReceiveCount], "1");
    assert!(
        system.contains_key(&MessageSystemAttributeName::SentTimestamp)
            && system.contains_key(&MessageSystemAttributeName::ApproximateFirstReceiveTimestamp)
    );

    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(hello.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let again =
        sqs.receive_message().queue_url(&url).wait_time_seconds(2).max_number_of_messages(10).send().await.unwrap();
    assert!(
        again.messages().iter().any(|m| m.body() == Some("hello")),
        "visible again after ChangeMessageVisibility 0"
    );
    let receipts: Vec<_> = again.messages().iter().map(|m| m.receipt_handle().unwrap().to_string()).collect();
    let visibility = sqs.change_message_visibility_batch().queue_url(&url);
    let visibility = receipts.iter().enumerate().fold(visibility, |b, (i, r)| {
        b.entries(
            aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(r)
                .visibility_timeout(30)
                .build()
                .unwrap(),
        )
    });
    assert_eq!(visibility.send().await.unwrap().successful().len(), receipts.len());
    let delete = sqs.delete_message_batch().queue_url(&url);
    let delete = receipts.iter().enumerate().fold(delete, |b, (i, r)| {
        b.entries(
            aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(r)
                .build()
                .unwrap(),
        )
    });
    assert_eq!(delete.send().await.unwrap().successful().len(), receipts.len());
    let last = sqs.receive_message().queue_url(&url).wait_time_seconds(3).send().await.unwrap();
    let last = &last.messages()[0];
    assert_eq!(last.body(), Some("two"), "the delayed message arrives after its delay");
    sqs.delete_message().queue_url(&url).receipt_handle(last.receipt_handle().unwrap()).send().await.unwrap();
    sqs.send_message().queue_url(&url).message_body("to purge").send().await.unwrap();
    sqs.purge_queue().queue_url(&url).send().await.unwrap();
    assert!(sqs.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty());
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let err = sqs.get_queue_url().queue_name("runtime-queue").send().await.unwrap_err().into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

#[tokio::test]
async fn aws_errors_for_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let err = sqs
        .send_message()
        .queue_url(queue_url(&emulator, "nope"))
        .message_body("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
    let url = queue_url(&emulator, "plain-dev");
    let eleven = (0..11).fold(sqs.send_message_batch().queue_url(&url), |b, i| {
        b.entries(SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body("x").build().unwrap())
    });
    let err = eleven.send().await.unwrap_err().into_service_error();
    assert!(err.is_too_many_entries_in_batch_request(), "{err:?}");
    let err = sqs.send_message().queue_url(&url).message_body("x".repeat(1024 * 1024 + 1)).send().await.unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("Message must be shorter than 1048576 bytes"));
    let err = sqs.receive_message().queue_url(&url).max_number_of_messages(11).send().await.unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("MaxNumberOfMessages"));
    let err = sqs.delete_message().queue_url(&url).receipt_handle("garbage!").send().await.unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("ReceiptHandleIsInvalid"));
}

#[tokio::test]
async fn visibility_timeout_hides_a_message_and_redelivery_counts_receives() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "plain-dev");
    sqs.send_message().queue_url(&url).message_body("again").send().await.unwrap();
    let first = sqs.receive_message().queue_url(&url).visibility_timeout(1).send().await.unwrap();
    assert_eq!(first.messages().len(), 1);
    assert!(
        sqs.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty(),
        "invisible while in flight"
    );
    let second = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(3)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    let message = &second.messages()[0];
    assert_eq!(message.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount], "2");
    assert_ne!(message.receipt_handle(), first.messages()[0].receipt_handle(), "a new receipt handle per receive");
    let stale = first.messages()[0].receipt_handle().unwrap();
    sqs.delete_message().queue_url(&url).receipt_handle(stale).send().await.unwrap();
    let attributes =
        sqs.get_queue_attributes().queue_url(&url).attribute_names(QueueAttributeName::All).send().await.unwrap();
    assert_eq!(
        attributes.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible],
        "1",
        "a stale receipt handle deletes nothing"
    );
}

#[tokio::test]
async fn long_polling_returns_as_soon_as_a_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "plain-dev");
    let waiting = {
        let (sqs, url) = (sqs.clone(), url.clone());
        tokio::spawn(async move { sqs.receive_message().queue_url(url).wait_time_seconds(10).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    sqs.send_message().queue_url(&url).message_body("wake up").send().await.unwrap();
    let received = waiting.await.unwrap();
    assert_eq!(received.messages()[0].body(), Some("wake up"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the long poll ended when the message arrived, not at its 10 s limit"
    );
}

#[tokio::test]
async fn no_message_goes_to_two_receivers_while_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "plain-dev");
    for chunk in 0..30 {
        let batch = (0..10).fold(sqs.send_message_batch().queue_url(&url), |b, i| {
            b.entries(
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(format!("m{}", chunk * 10 + i))
                    .build()
                    .unwrap(),
            )
        });
        batch.send().await.unwrap();
    }
    let receivers = (0..8).map(|_| {
        let (sqs, url) = (sqs.clone(), url.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let out = sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(10)
                    .visibility_timeout(60)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .unwrap();
                if out.messages().is_empty() {
                    return seen;
                }
                seen.extend(out.messages().iter().map(|m| m.body().unwrap().to_string()));
            }
        })
    });
    let mut all = Vec::new();
    for receiver in receivers {
        all.extend(receiver.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 300, "every message received once");
    assert_eq!(unique.len(), 300, "and none twice");
}

#[tokio::test]
async fn fifo_queues_keep_group_order_and_deduplicate() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "ordered.fifo");
    let mut ids = Vec::new();
    for body in ["first", "second", "third"] {
        ids.push(
            sqs.send_message()
                .queue_url(&url)
                .message_body(body)
                .message_group_id("g")
                .send()
                .await
                .unwrap()
                .message_id()
                .unwrap()
                .to_string(),
        );
    }
    let duplicate =
        sqs.send_message().queue_url(&url).message_body("first").message_group_id("g").send().await.unwrap();
    assert_eq!(duplicate.message_id(), Some(ids[0].as_str()), "content-based deduplication within 5 minutes");
    let one = sqs.receive_message().queue_url(&url).send().await.unwrap();
    assert_eq!(one.messages()[0].body(), Some("first"));
    assert!(
        sqs.receive_message().queue_url(&url).send().await.unwrap().messages().is_empty(),
        "the group waits while its first message is in flight"
    );
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(one.messages()[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let rest = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<_> = rest.messages().iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["second", "third"]);
    let err = sqs.send_message().queue_url(&url).message_body("no group").send().await.unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("MessageGroupId"));
}

#[tokio::test]
async fn a_failing_message_is_retried_then_moved_to_the_dead_letter_queue_and_consumed_there() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "work-dev");
    let failing = sqs
        .send_message()
        .queue_url(&url)
        .message_body("fail-always")
        .send()
        .await
        .unwrap()
        .message_id()
        .unwrap()
        .to_string();
    let fine =
        sqs.send_message().queue_url(&url).message_body("fine").send().await.unwrap().message_id().unwrap().to_string();
    let arrived = eventually(Duration::from_secs(15), || {
        recorded_records(dir.path()).iter().any(|r| r["queue"] == "work-dlq-dev")
    })
    .await;
    assert!(arrived, "the failing message reached the dead-letter queue's consumer");
    let records = recorded_records(dir.path());
    let tries: Vec<_> = records
        .iter()
        .filter(|r| r["queue"] == "work-dev" && r["messageId"] == failing.as_str())
        .map(|r| r["receiveCount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tries, ["1", "2"], "tried maxReceiveCount (2) times");
    assert_eq!(
        records.iter().filter(|r| r["messageId"] == fine.as_str()).count(),
        1,
        "ReportBatchItemFailures: the good message is not retried"
    );
    let dead = records.iter().find(|r| r["queue"] == "work-dlq-dev").unwrap();
    assert_eq!((dead["messageId"].as_str(), dead["body"].as_str()), (Some(failing.as_str()), Some("fail-always")));
    let record = &dead["record"];
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(record["eventSourceARN"], "arn:aws:sqs:eu-north-1:000000000000:work-dlq-dev");
    assert_eq!(record["md5OfBody"], format!("{:x}", md5_hex("fail-always")));
    let sources =
        sqs.list_dead_letter_source_queues().queue_url(queue_url(&emulator, "work-dlq-dev")).send().await.unwrap();
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&url));
    assert!(
        eventually(Duration::from_secs(5), || emulator.sqs().app_queue("work-dlq-dev").unwrap().attributes()
            ["ApproximateNumberOfMessages"]
            == "0")
        .await,
        "the DLQ consumer deleted it"
    );
}

#[tokio::test]
async fn a_batch_failure_returns_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "work-dev");
    sqs.send_message().queue_url(&url).message_body("crash-batch").send().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || recorded_records(dir.path())
            .iter()
            .filter(|r| r["body"] == "crash-batch")
            .count()
            >= 2)
        .await,
        "an error leaves the batch to reappear"
    );
}

#[tokio::test]
async fn ten_thousand_messages_through_a_mapping_with_none_lost() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let sqs = sqs_client(&emulator);
    let url = queue_url(&emulator, "bulk-dev");
    let senders = (0..10).map(|sender| {
        let (sqs, url) = (sqs.clone(), url.clone());
        tokio::spawn(async move {
            for chunk in 0..100 {
                let batch = (0..10).fold(sqs.send_message_batch().queue_url(&url), |b, i| {
                    b.entries(
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(format!("{}", sender * 1000 + chunk * 10 + i))
                            .build()
                            .unwrap(),
                    )
                });
                assert_eq!(batch.send().await.unwrap().successful().len(), 10);
            }
        })
    });
    for sender in senders {
        sender.await.unwrap();
    }
    let done = eventually(Duration::from_secs(120), || {
        emulator
            .sqs()
            .app_queue("bulk-dev")
            .unwrap()
            .attributes()
            .iter()
            .filter(|(k, _)| k.starts_with("ApproximateNumberOfMessages"))
            .all(|(_, v)| v == "0")
    })
    .await;
    assert!(done, "the queue drained");
    let bodies: HashSet<String> = recorded_records(dir.path())
        .iter()
        .filter(|r| r["queue"] == "bulk-dev")
        .map(|r| r["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bodies.len(), 10_000, "every message reached the function");
}

#[tokio::test]
async fn the_aws_cli_sends_and_receives() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let endpoint = emulator.endpoints().lambda_url();
    let url = queue_url(&emulator, "plain-dev");
    let output = aws_cli()
        .args([
            "sqs",
            "send-message",
            "--endpoint-url",
            &endpoint,
            "--queue-url",
            &url,
            "--message-body",
            "from the cli",
        ])
        .args(["--message-attributes", r#"{"kind":{"DataType":"String","StringValue":"cli"}}"#])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sent["MD5OfMessageBody"], format!("{:x}", md5_hex("from the cli")));
    let output = aws_cli()
        .args([
            "sqs",
            "receive-message",
            "--endpoint-url",
            &endpoint,
            "--queue-url",
            &url,
            "--message-attribute-names",
            "All",
            "--attribute-names",
            "All",
        ])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let received: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(received["Messages"][0]["Body"], "from the cli");
    assert_eq!(received["Messages"][0]["MessageAttributes"]["kind"]["StringValue"], "cli");
    let output = aws_cli()
        .args(["sqs", "get-queue-url", "--endpoint-url", &endpoint, "--queue-name", "missing"])
        .output()
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("NonExistentQueue")
            || String::from_utf8_lossy(&output.stderr).contains("QueueDoesNotExist")
    );
}

#[tokio::test]
async fn the_query_protocol_works_for_older_sdks() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = start(sqs_options(dir.path())).await;
    let client = reqwest::Client::new();
    let url = queue_url(&emulator, "plain-dev");
    let form = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
    };
    let sent = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("Action", "SendMessage"),
            ("MessageBody", "query hello"),
            ("MessageAttribute.1.Name", "kind"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "q"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let xml = sent.text().await.unwrap();
    assert!(
        xml.contains("<SendMessageResponse")
            && xml.contains(&format!("<MD5OfMessageBody>{:x}</MD5OfMessageBody>", md5_hex("query hello"))),
        "{xml}"
    );
    assert!(xml.contains("<MD5OfMessageAttributes>"), "{xml}");
    let received = client
        .post(emulator.endpoints().lambda_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("Action", "ReceiveMessage"),
            ("QueueUrl", &url),
            ("AttributeName.1", "All"),
            ("MessageAttributeName.1", "All"),
        ]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        received.contains("<Body>query hello</Body>")
            && received.contains("<Name>ApproximateReceiveCount</Name>")
            && received.contains("<StringValue>q</StringValue>"),
        "{received}"
    );
    let missing = client
        .post(emulator.endpoints().lambda_url())
        .body(form(&[("Action", "GetQueueUrl"), ("QueueName", "missing")]))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.unwrap().contains("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
}

fn md5_hex(text: &str) -> md5::Digest {
    md5::compute(text)
}

/// Queues only (no functions), so the emulator runs as its own process from a temporary folder.
const DURABLE_SERVICE: &str = r#"service: durable
provider: { name: aws, runtime: provided.al2023, region: eu-north-1 }
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: jobs
        VisibilityTimeout: 300
        RedrivePolicy: { deadLetterTargetArn: !GetAtt JobsDlq.Arn, maxReceiveCount: 1 }
    JobsDlq:
      Type: AWS::SQS::Queue
      Properties: { QueueName: jobs-dlq }
"#;

/// Starts `ftb-offline start` on free ports in `dir` and returns it with an SQS client for it.
fn start_process(dir: &std::path::Path, extra: &[&str]) -> (CliProcess, aws_sdk_sqs::Client) {
    let mut args = vec!["start", "--no-build"];
    args.extend(FREE_PORTS);
    args.extend_from_slice(extra);
    let mut process = CliProcess::spawn(dir, &args, &[]);
    let ready = process.wait_until_ready(Duration::from_secs(30));
    let client = sqs_client_at(&ready.address("Lambda, SQS and SNS APIs on "));
    (process, client)
}

async fn counts(client: &aws_sdk_sqs::Client, name: &str) -> (u32, u32) {
    let url = client.get_queue_url().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let attributes =
        client.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await.unwrap();
    let count = |name| attributes.attributes().unwrap()[&name].parse::<u32>().unwrap();
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

#[tokio::test]
async fn with_persist_every_acknowledged_message_survives_kill_9_and_without_it_state_is_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serverless.yml"), DURABLE_SERVICE).unwrap();
    let (process, sqs) = start_process(dir.path(), &["--persist"]);
    let jobs = sqs.get_queue_url().queue_name("jobs").send().await.unwrap().queue_url.unwrap();
    for i in 0..50 {
        sqs.send_message().queue_url(&jobs).message_body(format!("job {i}")).send().await.unwrap();
    }
    // 10 in flight; 5 of them made visible again and received once more, which moves them to the DLQ.
    let received = sqs.receive_message().queue_url(&jobs).max_number_of_messages(10).send().await.unwrap();
    let received = received.messages.unwrap();
    assert_eq!(received.len(), 10);
    for message in &received[..5] {
        sqs.change_message_visibility()
            .queue_url(&jobs)
            .receipt_handle(message.receipt_handle().unwrap())
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    let _ = sqs.receive_message().queue_url(&jobs).max_number_of_messages(10).send().await.unwrap();
    let by_api = sqs.create_queue().queue_name("made-through-the-api").send().await.unwrap().queue_url.unwrap();
    for i in 0..3 {
        sqs.send_message().queue_url(&by_api).message_body(format!("api {i}")).send().await.unwrap();
    }
    let (jobs_visible, jobs_in_flight) = counts(&sqs, "jobs").await;
    let dlq = counts(&sqs, "jobs-dlq").await;
    assert_eq!(dlq, (5, 0), "five moved to the dead-letter queue");
    assert_eq!(jobs_visible + jobs_in_flight, 45);
    process.crash();

    let (process, sqs) = start_process(dir.path(), &["--persist"]);
    assert_eq!(counts(&sqs, "jobs").await, (jobs_visible, jobs_in_flight), "visible and in-flight messages are back");
    assert_eq!(counts(&sqs, "jobs-dlq").await, dlq, "so are the dead-letter queue's");
    assert_eq!(counts(&sqs, "made-through-the-api").await, (3, 0), "and queues created through the API");
    let still_in_flight = &received[5];
    let jobs = sqs.get_queue_url().queue_name("jobs").send().await.unwrap().queue_url.unwrap();
    sqs.delete_message()
        .queue_url(&jobs)
        .receipt_handle(still_in_flight.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        counts(&sqs, "jobs").await,
        (jobs_visible, jobs_in_flight - 1),
        "a receipt from before the crash deletes"
    );
    process.crash();

    let (process, sqs) = start_process(dir.path(), &[]);
    assert!(process.log.iter().any(|line| line.contains("queues are in memory")), "the log says state is in memory");
    assert_eq!(counts(&sqs, "jobs").await, (0, 0), "without --persist the queues start empty");
    assert!(sqs.get_queue_url().queue_name("made-through-the-api").send().await.is_err());
}
