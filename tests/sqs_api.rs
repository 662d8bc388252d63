//! SQS as AWS behaves, through the stock `aws-sdk-sqs` client (the JSON protocol), one test per point of issue
//! #21: tags, permissions and message move tasks; the attributes SQS keeps; CreateQueue's idempotency;
//! validation with AWS's codes and messages; content-based deduplication; system attributes and request ids;
//! queues kept apart by region and account. `tests/sqs_query.rs` asserts the same through the query protocol.

use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::operation::RequestId;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, MessageSystemAttributeNameForSends, MessageSystemAttributeValue, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use ftb_offline::Emulator;
use ftb_offline_tests::*;
use std::collections::HashMap;
use std::time::Duration;

/// A client signing for `region` with `access_key` (twelve digits name another account, as in LocalStack).
fn client_as(emulator: &Emulator, region: &str, access_key: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, "test", None, None, "ftb-offline-tests"))
        .endpoint_url(emulator.endpoints().lambda_url())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The code (as botocore and the SDKs report it) and message of a failed call.
fn code_and_message<E: ProvideErrorMetadata>(err: E) -> (String, String) {
    (err.code().unwrap_or_default().to_string(), err.message().unwrap_or_default().to_string())
}

async fn create(sqs: &aws_sdk_sqs::Client, name: &str, attributes: &[(QueueAttributeName, &str)]) -> String {
    let request = attributes.iter().fold(sqs.create_queue().queue_name(name), |r, (k, v)| r.attributes(k.clone(), *v));
    request.send().await.unwrap_or_else(|e| panic!("{name}: {e:?}")).queue_url().unwrap().to_string()
}

async fn attributes(sqs: &aws_sdk_sqs::Client, url: &str) -> HashMap<QueueAttributeName, String> {
    let output = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await;
    output.unwrap().attributes().cloned().unwrap_or_default()
}

async fn arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    attributes(sqs, url).await[&QueueAttributeName::QueueArn].clone()
}

async fn visible(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    attributes(sqs, url).await[&QueueAttributeName::ApproximateNumberOfMessages].parse().unwrap()
}

#[tokio::test]
async fn tags_are_kept_from_creation_and_the_template_and_changed_by_tag_and_untag() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let url = sqs.create_queue().queue_name("t").tags("a", "1").send().await.unwrap().queue_url().unwrap().to_string();
    sqs.tag_queue().queue_url(&url).tags("b", "2").tags("a", "overwritten").send().await.unwrap();
    let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap().tags().cloned().unwrap();
    assert_eq!(tags, HashMap::from([("a".into(), "overwritten".into()), ("b".into(), "2".into())]));
    sqs.untag_queue().queue_url(&url).tag_keys("a").tag_keys("b").tag_keys("never-set").send().await.unwrap();
    assert_eq!(sqs.list_queue_tags().queue_url(&url).send().await.unwrap().tags(), None, "no Tags key when none");
    let tagged = sqs.get_queue_url().queue_name("tagged").send().await.unwrap().queue_url().unwrap().to_string();
    let tags = sqs.list_queue_tags().queue_url(&tagged).send().await.unwrap().tags().cloned().unwrap();
    assert_eq!(tags.get("team").map(String::as_str), Some("backend"), "Tags of the AWS::SQS::Queue resource");
    let fifty_one = (0..51).fold(sqs.tag_queue().queue_url(&url), |r, i| r.tags(format!("k{i}"), "v"));
    let (code, message) = code_and_message(fifty_one.send().await.unwrap_err().into_service_error());
    assert_eq!((code.as_str(), message.as_str()), ("InvalidParameterValue", "Too many tags added for queue t."));
    let missing = url.replace("/t", "/missing");
    let err = sqs.tag_queue().queue_url(missing).tags("a", "1").send().await.unwrap_err().into_service_error();
    assert!(err.is_queue_does_not_exist(), "{err:?}");
}

#[tokio::test]
async fn permissions_are_statements_of_the_queue_policy() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let url = create(&sqs, "shared-with-partner", &[]).await;
    let add = || sqs.add_permission().queue_url(&url).label("partner").aws_account_ids("111111111111");
    add().actions("SendMessage").send().await.unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&attributes(&sqs, &url).await[&QueueAttributeName::Policy]).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(policy["Version"], "2008-10-17");
    assert_eq!((statement["Sid"].as_str(), statement["Effect"].as_str()), (Some("partner"), Some("Allow")));
    assert_eq!(statement["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
    assert_eq!(statement["Action"], "SQS:SendMessage");
    assert_eq!(statement["Resource"], arn(&sqs, &url).await);
    let (code, message) =
        code_and_message(add().actions("ReceiveMessage").send().await.unwrap_err().into_service_error());
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterValue", "Value partner for parameter Label is invalid. Reason: Already exists.")
    );
    let eight = [
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "GetQueueUrl",
        "PurgeQueue",
        "*",
    ];
    let many = eight
        .iter()
        .fold(sqs.add_permission().queue_url(&url).label("many").aws_account_ids("111111111111"), |r, a| r.actions(*a));
    assert_eq!(code_and_message(many.send().await.unwrap_err().into_service_error()).0, "OverLimit");
    sqs.remove_permission().queue_url(&url).label("partner").send().await.unwrap();
    assert!(
        !attributes(&sqs, &url).await.contains_key(&QueueAttributeName::Policy),
        "the last statement takes the policy"
    );
    let err = sqs.remove_permission().queue_url(&url).label("partner").send().await.unwrap_err().into_service_error();
    assert_eq!(code_and_message(err).0, "InvalidParameterValue");
}

/// A source queue `name` whose messages reach `name-dlq` on their second receive; returns both URLs after
/// `count` messages have been dead-lettered.
async fn dead_lettered(sqs: &aws_sdk_sqs::Client, name: &str, count: usize) -> (String, String) {
    let dlq = create(sqs, &format!("{name}-dlq"), &[]).await;
    let redrive = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"1"}}"#, arn(sqs, &dlq).await);
    let source = create(sqs, name, &[(QueueAttributeName::RedrivePolicy, &redrive)]).await;
    for i in 0..count {
        sqs.send_message().queue_url(&source).message_body(format!("m{i}")).send().await.unwrap();
    }
    let arrived = eventually_async(Duration::from_secs(10), || async {
        let _ = sqs.receive_message().queue_url(&source).max_number_of_messages(10).visibility_timeout(0).send().await;
        visible(sqs, &dlq).await == count as u64
    });
    assert!(arrived.await, "the messages reached the dead-letter queue");
    (source, dlq)
}

/// Polls an async condition every 50 ms until it holds or `limit` passes.
async fn eventually_async<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_message_move_task_redrives_a_dead_letter_queue_and_can_be_cancelled() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let (source, dlq) = dead_lettered(&sqs, "orders", 3).await;
    let dlq_arn = arn(&sqs, &dlq).await;
    let received = sqs
        .receive_message()
        .queue_url(&dlq)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let system = received.messages()[0].attributes().unwrap();
    assert_eq!(system[&MessageSystemAttributeName::DeadLetterQueueSourceArn], arn(&sqs, &source).await);

    let handle =
        sqs.start_message_move_task().source_arn(&dlq_arn).send().await.unwrap().task_handle().unwrap().to_string();
    let done = eventually_async(Duration::from_secs(10), || async {
        let tasks = sqs.list_message_move_tasks().source_arn(&dlq_arn).send().await.unwrap();
        tasks.results()[0].status() == Some("COMPLETED")
    });
    assert!(done.await, "the task completed");
    let task = sqs.list_message_move_tasks().source_arn(&dlq_arn).send().await.unwrap().results()[0].clone();
    assert_eq!(
        (task.approximate_number_of_messages_moved(), task.approximate_number_of_messages_to_move()),
        (3, Some(3))
    );
    assert_eq!(task.task_handle(), None, "a finished task has no handle");
    assert_eq!((visible(&sqs, &source).await, visible(&sqs, &dlq).await), (3, 0));
    let err = sqs.cancel_message_move_task().task_handle(&handle).send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // One message a second to an explicit destination, cancelled on the way.
    let (_, slow_dlq) = dead_lettered(&sqs, "slow", 4).await;
    let elsewhere = arn(&sqs, &create(&sqs, "elsewhere", &[]).await).await;
    let slow_arn = arn(&sqs, &slow_dlq).await;
    let start = || {
        sqs.start_message_move_task()
            .source_arn(&slow_arn)
            .destination_arn(&elsewhere)
            .max_number_of_messages_per_second(1)
    };
    let handle = start().send().await.unwrap().task_handle().unwrap().to_string();
    let (code, message) = code_and_message(start().send().await.unwrap_err().into_service_error());
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.starts_with("There is already a task running."), "{message}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let moved = sqs
        .cancel_message_move_task()
        .task_handle(&handle)
        .send()
        .await
        .unwrap()
        .approximate_number_of_messages_moved();
    assert!((1..4).contains(&moved), "cancelled part way: {moved}");
    let stopped = eventually_async(Duration::from_secs(5), || async {
        let tasks = sqs.list_message_move_tasks().source_arn(&slow_arn).max_results(10).send().await.unwrap();
        tasks.results()[0].status() == Some("CANCELLED")
    });
    assert!(stopped.await, "the task was cancelled");

    let plain = arn(&sqs, &create(&sqs, "nobodys-dlq", &[]).await).await;
    let (code, message) = code_and_message(
        sqs.start_message_move_task().source_arn(plain).send().await.unwrap_err().into_service_error(),
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    );
    let err = sqs
        .start_message_move_task()
        .source_arn("arn:aws:sqs:eu-north-1:000000000000:none")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn sqs_keeps_and_returns_policy_encryption_and_fifo_attributes() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let fifo = create(&sqs, "kept.fifo", &[(QueueAttributeName::FifoQueue, "true")]).await;
    let all = attributes(&sqs, &fifo).await;
    assert_eq!(all[&QueueAttributeName::DeduplicationScope], "queue");
    assert_eq!(all[&QueueAttributeName::FifoThroughputLimit], "perQueue");
    assert_eq!(all[&QueueAttributeName::SqsManagedSseEnabled], "true");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}"#;
    let allow = r#"{"redrivePermission":"denyAll"}"#;
    sqs.set_queue_attributes()
        .queue_url(&fifo)
        .attributes(QueueAttributeName::Policy, policy)
        .attributes(QueueAttributeName::KmsMasterKeyId, "alias/aws/sqs")
        .attributes(QueueAttributeName::RedriveAllowPolicy, allow)
        .attributes(QueueAttributeName::DeduplicationScope, "messageGroup")
        .attributes(QueueAttributeName::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .unwrap();
    let all = attributes(&sqs, &fifo).await;
    let parsed = |name: &QueueAttributeName| serde_json::from_str::<serde_json::Value>(&all[name]).unwrap();
    assert_eq!(parsed(&QueueAttributeName::Policy), serde_json::from_str::<serde_json::Value>(policy).unwrap());
    assert_eq!(parsed(&QueueAttributeName::RedriveAllowPolicy)["redrivePermission"], "denyAll");
    assert_eq!(all[&QueueAttributeName::KmsMasterKeyId], "alias/aws/sqs");
    assert_eq!(all[&QueueAttributeName::KmsDataKeyReusePeriodSeconds], "300");
    assert_eq!(all[&QueueAttributeName::SqsManagedSseEnabled], "false");
    assert_eq!(all[&QueueAttributeName::FifoThroughputLimit], "perMessageGroupId");
    let none = sqs.get_queue_attributes().queue_url(&fifo).send().await.unwrap();
    assert_eq!(none.attributes(), None, "no names asked, no Attributes");
    let standard = create(&sqs, "plain", &[]).await;
    assert!(!attributes(&sqs, &standard).await.contains_key(&QueueAttributeName::DeduplicationScope));
    let denied = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":2}}"#, arn(&sqs, &fifo).await);
    let err = sqs
        .create_queue()
        .queue_name("src.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::RedrivePolicy, denied)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(err.into_service_error()).0, "InvalidParameterValue", "denyAll refuses sources");
}

#[tokio::test]
async fn create_queue_is_idempotent_for_attributes_equal_in_meaning() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let dlq_arn = arn(&sqs, &create(&sqs, "idem-dlq", &[]).await).await;
    // As Python's json.dumps writes it (spaces after `:` and `,`), then compact with a string count.
    let spaced = format!(r#"{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": 5}}"#);
    let compact = format!(r#"{{"maxReceiveCount":"5","deadLetterTargetArn":"{dlq_arn}"}}"#);
    let url = create(
        &sqs,
        "idem",
        &[(QueueAttributeName::RedrivePolicy, &spaced), (QueueAttributeName::VisibilityTimeout, "40")],
    )
    .await;
    assert_eq!(create(&sqs, "idem", &[(QueueAttributeName::RedrivePolicy, &compact)]).await, url);
    assert_eq!(create(&sqs, "idem", &[]).await, url, "no attributes: the queue as it is");
    let other = spaced.replace(": 5", ": 6");
    let err = sqs
        .create_queue()
        .queue_name("idem")
        .attributes(QueueAttributeName::RedrivePolicy, other)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_queue_name_exists(), "{err:?}");
    assert_eq!(err.meta().code(), Some("QueueAlreadyExists"));
    assert_eq!(
        err.meta().message(),
        Some("A queue already exists with the same name and a different value for attribute RedrivePolicy")
    );
}

#[tokio::test]
async fn bad_requests_get_aws_codes_and_messages() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let url = create(&sqs, "strict", &[]).await;
    let entry = |id: &str| SendMessageBatchRequestEntry::builder().id(id).message_body("x").build().unwrap();
    for id in ["has space", &"x".repeat(81)] {
        let err =
            sqs.send_message_batch().queue_url(&url).entries(entry(id)).send().await.unwrap_err().into_service_error();
        assert!(err.is_invalid_batch_entry_id(), "{id}: {err:?}");
    }
    let err = sqs
        .create_queue()
        .queue_name("colour")
        .attributes(QueueAttributeName::from("Colour"), "blue")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_name(), "{err:?}");
    assert_eq!(err.meta().message(), Some("Unknown Attribute Colour."));
    let err = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::from("Foobar"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_attribute_name(), "{err:?}");
    let reserved =
        aws_sdk_sqs::types::MessageAttributeValue::builder().data_type("String").string_value("v").build().unwrap();
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("AWS.mine", reserved)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_message(err.into_service_error()).0, "InvalidParameterValue");
    let nowhere = r#"{"deadLetterTargetArn":"arn:aws:sqs:eu-north-1:000000000000:nowhere","maxReceiveCount":3}"#;
    let err = sqs
        .create_queue()
        .queue_name("orphan")
        .attributes(QueueAttributeName::RedrivePolicy, nowhere)
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(err.into_service_error());
    assert_eq!(code, "InvalidParameterValue");
    assert_eq!(
        message,
        format!("Value {nowhere} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.")
    );
    let standard_dlq = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#, arn(&sqs, &url).await);
    let err = sqs
        .create_queue()
        .queue_name("mixed.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::RedrivePolicy, standard_dlq)
        .send()
        .await
        .unwrap_err();
    assert!(code_and_message(err.into_service_error())
        .1
        .ends_with("Dead-letter queue must be same type of queue as the source.."));
    let fifo = create(&sqs, "strict.fifo", &[(QueueAttributeName::FifoQueue, "true")]).await;
    let err =
        sqs.send_message().queue_url(&fifo).message_body("x").message_deduplication_id("d").send().await.unwrap_err();
    assert_eq!(
        code_and_message(err.into_service_error()),
        ("MissingParameter".into(), "The request must contain the parameter MessageGroupId.".into())
    );
    let grouped = SendMessageBatchRequestEntry::builder()
        .id("a")
        .message_body("x")
        .message_group_id("g")
        .message_deduplication_id("1")
        .build()
        .unwrap();
    let err = sqs
        .send_message_batch()
        .queue_url(&fifo)
        .entries(grouped)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("b")
                .message_body("y")
                .message_deduplication_id("2")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(err.into_service_error()),
        ("InvalidParameterValue".into(), "The request must contain the parameter MessageGroupId.".into()),
        "the whole batch"
    );
    assert_eq!(visible(&sqs, &fifo).await, 0, "nothing of the refused batch was queued");
    let err = sqs.send_message().queue_url(&url).message_body("x").delay_seconds(901).send().await.unwrap_err();
    assert_eq!(
        code_and_message(err.into_service_error()).1,
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
    );
}

#[tokio::test]
async fn content_based_deduplication_ids_are_the_sha256_of_the_body() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let url = create(
        &sqs,
        "cb.fifo",
        &[(QueueAttributeName::FifoQueue, "true"), (QueueAttributeName::ContentBasedDeduplication, "true")],
    )
    .await;
    let first = sqs.send_message().queue_url(&url).message_body("hello").message_group_id("g").send().await.unwrap();
    // `printf hello | sha256sum`
    let hello_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    let again = sqs
        .send_message()
        .queue_url(&url)
        .message_body("other body")
        .message_group_id("g")
        .message_deduplication_id(hello_sha256)
        .send()
        .await
        .unwrap();
    assert_eq!(again.message_id(), first.message_id(), "an explicit id equal to the body's SHA-256 deduplicates");
    assert_eq!(visible(&sqs, &url).await, 1);
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap();
    let system = received.messages()[0].attributes().unwrap();
    assert_eq!(system[&MessageSystemAttributeName::MessageDeduplicationId], hello_sha256);
}

#[tokio::test]
async fn trace_headers_and_request_ids_come_back() {
    let emulator = start(queues_options()).await;
    let sqs = sqs_client(&emulator);
    let url = create(&sqs, "traced", &[]).await;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    let header = MessageSystemAttributeValue::builder().data_type("String").string_value(trace).build().unwrap();
    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_system_attributes(MessageSystemAttributeNameForSends::AwsTraceHeader, header)
        .send()
        .await
        .unwrap();
    assert!(sent.md5_of_message_system_attributes().is_some_and(|md5| md5.len() == 32));
    assert!(sent.request_id().is_some_and(|id| !id.is_empty()), "x-amzn-RequestId on a success");
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .unwrap();
    assert_eq!(received.messages()[0].attributes().unwrap()[&MessageSystemAttributeName::AwsTraceHeader], trace);
    let err = sqs.get_queue_url().queue_name("missing").send().await.unwrap_err().into_service_error();
    assert!(err.request_id().is_some_and(|id| !id.is_empty()), "x-amzn-RequestId on an error");

    // An `X-Amzn-Trace-Id` header (what X-Ray-instrumented clients send) becomes the AWSTraceHeader too.
    let header_trace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1";
    let sent = reqwest::Client::new()
        .post(emulator.endpoints().lambda_url())
        .header("x-amz-target", "AmazonSQS.SendMessage")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-trace-id", header_trace)
        .body(serde_json::json!({ "QueueUrl": url, "MessageBody": "from a traced client" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .visibility_timeout(0)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let traces: Vec<&str> = received
        .messages()
        .iter()
        .filter_map(|m| m.attributes()?.get(&MessageSystemAttributeName::AwsTraceHeader).map(String::as_str))
        .collect();
    assert!(traces.contains(&header_trace), "{traces:?}");
}

#[tokio::test]
async fn queues_belong_to_their_region_and_account() {
    let emulator = start(queues_options()).await;
    let (virginia, ireland) = (client_as(&emulator, "us-east-1", "test"), client_as(&emulator, "eu-west-1", "test"));
    let in_virginia = create(&virginia, "shared", &[]).await;
    let in_ireland = create(&ireland, "shared", &[]).await;
    assert_eq!(in_virginia, in_ireland, "the URL names the account and queue; the region is the signature's");
    assert_eq!(arn(&virginia, &in_virginia).await, "arn:aws:sqs:us-east-1:000000000000:shared");
    assert_eq!(arn(&ireland, &in_ireland).await, "arn:aws:sqs:eu-west-1:000000000000:shared");
    virginia.send_message().queue_url(&in_virginia).message_body("x").send().await.unwrap();
    assert_eq!((visible(&virginia, &in_virginia).await, visible(&ireland, &in_ireland).await), (1, 0));
    let listed = virginia.list_queues().send().await.unwrap();
    assert_eq!(listed.queue_urls(), std::slice::from_ref(&in_virginia), "only the caller's region");
    let home = sqs_client(&emulator).list_queues().send().await.unwrap();
    assert!(home.queue_urls().iter().all(|u| !u.ends_with("/shared")), "{home:?}");

    let second = client_as(&emulator, "us-east-1", "111111111111");
    let theirs = create(&second, "shared", &[]).await;
    assert!(theirs.ends_with("/111111111111/shared"), "{theirs}");
    assert_eq!(arn(&second, &theirs).await, "arn:aws:sqs:us-east-1:111111111111:shared");
    assert_eq!(visible(&second, &theirs).await, 0, "another account's queue of the same name");
    let owned =
        virginia.get_queue_url().queue_name("shared").queue_owner_aws_account_id("111111111111").send().await.unwrap();
    assert_eq!(owned.queue_url(), Some(theirs.as_str()));
}
