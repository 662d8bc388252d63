//! SNS as AWS behaves, through the stock `aws-sdk-sns` client and the AWS CLI, against topics and subscribers
//! from `tests/fixtures/triggers/sns.yml`: fan-out to a Node.js function and to queues (raw, filtered by
//! attributes, filtered by payload) with each message shaped as AWS shapes it; a FIFO topic into a FIFO queue in
//! order and deduplicated; a failing subscriber retried by Lambda; the API's answers and errors.

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use ftb_offline::Emulator;
use ftb_offline_tests::*;
use serde_json::Value;
use std::time::Duration;

fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:eu-north-1:000000000000:{name}")
}

fn queue_url(emulator: &Emulator, name: &str) -> String {
    format!("{}/000000000000/{name}", emulator.endpoints().lambda_url())
}

fn string(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().unwrap()
}

/// Every message in a queue now (received, then deleted), waiting up to 2 s for the first.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let wait = if all.is_empty() { 2 } else { 0 };
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let messages = received.messages().to_vec();
        if messages.is_empty() {
            return all;
        }
        for message in &messages {
            sqs.delete_message().queue_url(url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
        }
        all.extend(messages);
    }
}

#[tokio::test]
async fn a_topic_fans_out_to_a_function_and_to_raw_and_filtered_queues_as_aws_shapes_them() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(sns_options(events.path())).await;
    let (sns, sqs) = (sns_client(&emulator), sqs_client(&emulator));
    let topics: Vec<String> = sns
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn().map(String::from))
        .collect();
    for name in ["orders", "alerts", "ledger.fifo"] {
        assert!(topics.contains(&topic_arn(name)), "{name} is defined: {topics:?}");
    }

    let big_eu = r#"{"order":{"total":150}}"#;
    let small_us = r#"{"order":{"total":5}}"#;
    let first = sns
        .publish()
        .topic_arn(topic_arn("orders"))
        .message(big_eu)
        .subject("New order")
        .message_attributes("region", string("eu-west-1"))
        .send()
        .await
        .unwrap();
    sns.publish()
        .topic_arn(topic_arn("orders"))
        .message(small_us)
        .message_attributes("region", string("us-east-1"))
        .send()
        .await
        .unwrap();

    // The function: one record per invocation, spelled as Lambda's SNS event is.
    let calls = invocations(events.path(), "onOrder", 2).await;
    let record = calls.iter().map(|c| &c["event"]["Records"][0]).find(|r| r["Sns"]["Message"] == big_eu).unwrap();
    assert_eq!(calls[0]["event"]["Records"].as_array().unwrap().len(), 1);
    assert_eq!(record["EventSource"], "aws:sns");
    assert_eq!(record["EventVersion"], "1.0");
    assert!(record["EventSubscriptionArn"].as_str().unwrap().starts_with(&format!("{}:", topic_arn("orders"))));
    let message = &record["Sns"];
    assert_eq!(message["Type"], "Notification");
    assert_eq!(message["MessageId"], first.message_id().unwrap());
    assert_eq!(message["TopicArn"], topic_arn("orders"));
    assert_eq!(message["Subject"], "New order");
    assert_eq!(message["MessageAttributes"]["region"], serde_json::json!({"Type": "String", "Value": "eu-west-1"}));
    assert_eq!(message["SignatureVersion"], "1");
    let timestamp = message["Timestamp"].as_str().unwrap();
    assert!(timestamp.ends_with('Z') && timestamp.len() == 24, "milliseconds and Z: {timestamp}");
    for field in ["Signature", "SigningCertUrl", "UnsubscribeUrl"] {
        assert!(message[field].as_str().is_some_and(|v| !v.is_empty()), "{field}: {message}");
    }
    let other = calls.iter().map(|c| &c["event"]["Records"][0]["Sns"]).find(|s| s["Message"] == small_us).unwrap();
    assert_eq!(other["Subject"], Value::Null, "no subject: null, as Lambda sends it");

    // Raw delivery: the messages as published, their attributes as SQS message attributes.
    let raw = drain(&sqs, &queue_url(&emulator, "orders-raw")).await;
    let mut bodies: Vec<&str> = raw.iter().map(|m| m.body().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, [big_eu, small_us]);
    let region = raw.iter().find(|m| m.body() == Some(big_eu)).unwrap().message_attributes().unwrap()["region"].clone();
    assert_eq!((region.data_type(), region.string_value()), ("String", Some("eu-west-1")));

    // Filtered on attributes ({prefix: eu-}): only the EU order, in SNS's JSON envelope.
    let by_attribute = drain(&sqs, &queue_url(&emulator, "orders-eu")).await;
    assert_eq!(by_attribute.len(), 1, "{by_attribute:#?}");
    let envelope: Value = serde_json::from_str(by_attribute[0].body().unwrap()).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["Message"], big_eu);
    assert_eq!(envelope["Subject"], "New order");
    assert_eq!(envelope["MessageAttributes"]["region"]["Value"], "eu-west-1");
    assert!(envelope["SigningCertURL"].is_string() && envelope["UnsubscribeURL"].is_string(), "{envelope}");
    assert!(envelope.get("SigningCertUrl").is_none(), "SQS gets the URL spelling");

    // Filtered on the payload (order.total >= 100): only the big order.
    let by_payload = drain(&sqs, &queue_url(&emulator, "orders-big")).await;
    assert_eq!(by_payload.len(), 1);
    let envelope: Value = serde_json::from_str(by_payload[0].body().unwrap()).unwrap();
    assert_eq!(envelope["Message"], big_eu);
    assert!(envelope.get("Subject").is_some());

    // The event-created topic with its filter policy: only high and critical alerts reach the function.
    for severity in ["low", "high"] {
        let publish = sns.publish().topic_arn(topic_arn("alerts")).message(format!("{severity} alert"));
        publish.message_attributes("severity", string(severity)).send().await.unwrap();
    }
    let alerts = invocations(events.path(), "onAlert", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts_now = recorded_lines(events.path(), "onAlert.jsonl");
    assert_eq!(alerts_now.len(), 1, "the low alert was filtered out: {alerts_now:#?}");
    assert_eq!(alerts[0]["event"]["Records"][0]["Sns"]["Message"], "high alert");

    // The unsubscribe link in each notification works against the local endpoint.
    let link = message["UnsubscribeUrl"].as_str().unwrap();
    let answer = reqwest::get(link).await.unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let left = sns.list_subscriptions_by_topic().topic_arn(topic_arn("orders")).send().await.unwrap();
    let protocols: Vec<&str> = left.subscriptions().iter().filter_map(|s| s.protocol()).collect();
    assert_eq!(protocols, ["sqs", "sqs", "sqs"], "the function's subscription is gone");
}

#[tokio::test]
async fn a_fifo_topic_delivers_in_order_to_a_fifo_queue_and_deduplicates() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(sns_options(events.path())).await;
    let (sns, sqs) = (sns_client(&emulator), sqs_client(&emulator));
    let ledger = topic_arn("ledger.fifo");
    let mut sequence_numbers = Vec::new();
    for i in 0..10 {
        let published = sns.publish().topic_arn(&ledger).message(format!("entry {i}")).message_group_id("account-1");
        sequence_numbers.push(published.send().await.unwrap().sequence_number().unwrap().to_string());
    }
    let mut sorted = sequence_numbers.clone();
    sorted.sort();
    assert_eq!(sorted, sequence_numbers, "sequence numbers grow");
    // Content-based deduplication: the same message again within 5 minutes is not delivered twice.
    let again = sns.publish().topic_arn(&ledger).message("entry 3").message_group_id("account-1").send().await.unwrap();
    assert_eq!(again.sequence_number().unwrap(), sequence_numbers[3]);

    let received = drain(&sqs, &queue_url(&emulator, "ledger.fifo")).await;
    let bodies: Vec<&str> = received.iter().map(|m| m.body().unwrap()).collect();
    let expected: Vec<String> = (0..10).map(|i| format!("entry {i}")).collect();
    assert_eq!(bodies, expected, "in order, once each");

    let missing_group = sns.publish().topic_arn(&ledger).message("x").send().await.unwrap_err();
    assert_eq!(missing_group.code(), Some("InvalidParameter"));
    assert_eq!(
        missing_group.message(),
        Some("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    );
    let function = sns
        .subscribe()
        .topic_arn(&ledger)
        .protocol("lambda")
        .endpoint("arn:aws:lambda:eu-north-1:000000000000:function:ftb-sns-dev-onOrder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(function.code(), Some("InvalidParameter"), "FIFO topics deliver to SQS queues only");
    let standard = sns.subscribe().topic_arn(topic_arn("orders")).protocol("sqs");
    let refused = standard.endpoint("arn:aws:sqs:eu-north-1:000000000000:ledger.fifo").send().await.unwrap_err();
    assert!(refused.message().unwrap().contains("FIFO SQS Queues can not be subscribed to standard SNS topics"));
}

#[tokio::test]
async fn a_failing_subscriber_is_retried_as_lambda_retries_asynchronous_invocations() {
    let events = tempfile::tempdir().unwrap();
    let mut options = sns_options(events.path());
    options.async_retry_delay = Some(Duration::from_millis(200));
    let emulator = start(options).await;
    let sns = sns_client(&emulator);
    let publish = sns.publish().topic_arn(topic_arn("alerts")).message("please fail");
    publish.message_attributes("severity", string("critical")).send().await.unwrap();
    let attempts = invocations(events.path(), "onAlert", 3).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let attempts_now = recorded_lines(events.path(), "onAlert.jsonl");
    assert_eq!(attempts_now.len(), 3, "the first attempt and Lambda's two retries: {attempts_now:#?}");
    assert!(attempts.iter().all(|a| a["requestId"] == attempts[0]["requestId"]), "every attempt shares one request id");
}

#[tokio::test]
async fn the_sns_api_answers_and_refuses_as_aws_does() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(sns_options(events.path())).await;
    let (sns, sqs) = (sns_client(&emulator), sqs_client(&emulator));

    // CreateTopic is idempotent; different attributes are refused.
    let arn = sns.create_topic().name("api").attributes("DisplayName", "API").send().await.unwrap().topic_arn.unwrap();
    let again = sns.create_topic().name("api").attributes("DisplayName", "API").send().await.unwrap();
    assert_eq!(again.topic_arn(), Some(arn.as_str()));
    let changed = sns.create_topic().name("api").attributes("DisplayName", "Other").send().await.unwrap_err();
    assert_eq!(changed.code(), Some("InvalidParameter"));
    let by_name = sns.create_topic().name("api").send().await.unwrap();
    assert_eq!(by_name.topic_arn(), Some(arn.as_str()), "a name alone returns the existing topic");
    let bad_name = sns.create_topic().name("no spaces").send().await.unwrap_err();
    assert_eq!(
        (bad_name.code(), bad_name.message()),
        (Some("InvalidParameter"), Some("Invalid parameter: Topic Name"))
    );
    let fifo_name = sns.create_topic().name("plain").attributes("FifoTopic", "true").send().await.unwrap_err();
    assert_eq!(fifo_name.code(), Some("InvalidParameter"));

    // Attributes: set, derived, and refused.
    sns.set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("Renamed")
        .send()
        .await
        .unwrap();
    let attributes = sns.get_topic_attributes().topic_arn(&arn).send().await.unwrap().attributes.unwrap();
    assert_eq!(attributes["DisplayName"], "Renamed");
    assert_eq!(attributes["Owner"], "000000000000");
    assert_eq!(attributes["TopicArn"], arn);
    assert!(attributes["Policy"].contains("SNS:Publish"));
    let unknown = sns.set_topic_attributes().topic_arn(&arn).attribute_name("Colour").attribute_value("x").send().await;
    assert_eq!(unknown.unwrap_err().message(), Some("Invalid parameter: AttributeName"));

    // Subscriptions: a filter policy checked when set, and attributes as AWS lists them.
    let queue = sqs.create_queue().queue_name("api-q").send().await.unwrap().queue_url.unwrap();
    let queue_arn = "arn:aws:sqs:eu-north-1:000000000000:api-q".to_string();
    let bad_policy = sns
        .subscribe()
        .topic_arn(&arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("FilterPolicy", r#"{"a":{"b":["c"]}}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_policy.code(), Some("InvalidParameter"));
    assert!(
        bad_policy.message().unwrap().starts_with("Invalid parameter: Attributes Reason: FilterPolicy:")
            && bad_policy.message().unwrap().contains("does not support nested filter policy"),
        "{bad_policy:?}"
    );
    let subscription = sns
        .subscribe()
        .topic_arn(&arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap()
        .subscription_arn
        .unwrap();
    let shown = sns.get_subscription_attributes().subscription_arn(&subscription).send().await.unwrap();
    let shown = shown.attributes.unwrap();
    assert_eq!((shown["Protocol"].as_str(), shown["RawMessageDelivery"].as_str()), ("sqs", "true"));
    assert_eq!(shown["PendingConfirmation"], "false");
    let set_bad = sns
        .set_subscription_attributes()
        .subscription_arn(&subscription)
        .attribute_name("FilterPolicy")
        .attribute_value(r#"{"a":"b"}"#)
        .send()
        .await
        .unwrap_err();
    assert!(
        set_bad.message().unwrap().starts_with("Invalid parameter: FilterPolicy:"),
        "no Attributes Reason here: {set_bad:?}"
    );
    let again = sns.subscribe().topic_arn(&arn).protocol("sqs").endpoint(&queue_arn).send().await.unwrap();
    assert_eq!(again.subscription_arn(), Some(subscription.as_str()), "subscribing again returns the subscription");
    let raw_lambda = sns
        .subscribe()
        .topic_arn(&arn)
        .protocol("lambda")
        .endpoint("arn:aws:lambda:eu-north-1:000000000000:function:ftb-sns-dev-onOrder")
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap_err();
    assert!(raw_lambda.message().unwrap().contains("does not support raw message delivery"));
    let email = sns.subscribe().topic_arn(&arn).protocol("email").endpoint("dev@example.com").send().await.unwrap();
    assert_eq!(email.subscription_arn(), Some("pending confirmation"));

    // Publish checks, with AWS's codes.
    let bad_type = MessageAttributeValue::builder().data_type("Colour").string_value("red").build().unwrap();
    let refused =
        sns.publish().topic_arn(&arn).message("m").message_attributes("c", bad_type).send().await.unwrap_err();
    assert_eq!(refused.code(), Some("ParameterValueInvalid"));
    assert!(refused.message().unwrap().contains("supported type prefixes is Binary, Number, and String"));
    let no_default = sns.publish().topic_arn(&arn).message(r#"{"sqs":"x"}"#).message_structure("json").send().await;
    assert!(no_default.unwrap_err().message().unwrap().contains("No default entry"));
    let nowhere = sns.publish().topic_arn(topic_arn("nowhere")).message("m").send().await.unwrap_err();
    assert_eq!((nowhere.code(), nowhere.message()), (Some("NotFound"), Some("Topic does not exist")));
    let too_big = sns.publish().topic_arn(&arn).message("x".repeat(256 * 1024 + 1)).send().await.unwrap_err();
    assert_eq!(too_big.message(), Some("Invalid parameter: Message too long"));

    // A structured message: the queue gets its `sqs` entry.
    sns.publish()
        .topic_arn(&arn)
        .message(r#"{"default":"d","sqs":"for queues"}"#)
        .message_structure("json")
        .send()
        .await
        .unwrap();
    let got = drain(&sqs, &queue).await;
    assert_eq!(got.iter().map(|m| m.body().unwrap()).collect::<Vec<_>>(), ["for queues"]);

    // PublishBatch: each entry published; a batch with one entry SNS would refuse, or repeated ids, refused whole.
    let entry = |id: &str, message: &str| PublishBatchRequestEntry::builder().id(id).message(message).build().unwrap();
    let batch = sns
        .publish_batch()
        .topic_arn(&arn)
        .publish_batch_request_entries(entry("one", "1"))
        .publish_batch_request_entries(entry("two", "2"))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.successful().iter().filter_map(|s| s.id()).collect::<Vec<_>>(), ["one", "two"]);
    assert!(batch.failed().is_empty());
    let bad = PublishBatchRequestEntry::builder()
        .id("bad")
        .message("3")
        .message_attributes(
            "c",
            MessageAttributeValue::builder().data_type("Colour").string_value("red").build().unwrap(),
        )
        .build()
        .unwrap();
    let refused = sns
        .publish_batch()
        .topic_arn(&arn)
        .publish_batch_request_entries(entry("good", "4"))
        .publish_batch_request_entries(bad)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ParameterValueInvalid"));
    let twice = sns
        .publish_batch()
        .topic_arn(&arn)
        .publish_batch_request_entries(entry("same", "1"))
        .publish_batch_request_entries(entry("same", "2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Some("BatchEntryIdsNotDistinct"));
    assert_eq!(drain(&sqs, &queue).await.len(), 2, "the first batch's two messages, and nothing of the refused ones");

    // Tags, on the template's topic and through the API.
    let tags = sns.list_tags_for_resource().resource_arn(topic_arn("orders")).send().await.unwrap();
    assert_eq!(tags.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), [("team", "shop")]);
    let tag = aws_sdk_sns::types::Tag::builder().key("k").value("v").build().unwrap();
    sns.tag_resource().resource_arn(&arn).tags(tag).send().await.unwrap();
    sns.untag_resource().resource_arn(&arn).tag_keys("k").send().await.unwrap();
    assert!(sns.list_tags_for_resource().resource_arn(&arn).send().await.unwrap().tags().is_empty());

    // Unsubscribe, DeleteTopic (and its subscriptions with it), pages of 100.
    sns.unsubscribe().subscription_arn(&subscription).send().await.unwrap();
    sns.unsubscribe().subscription_arn(&subscription).send().await.expect("unsubscribing twice succeeds, as on SNS");
    let malformed = sns.unsubscribe().subscription_arn("arn:aws:sns").send().await.unwrap_err();
    assert_eq!(malformed.code(), Some("InvalidParameter"));
    sns.delete_topic().topic_arn(&arn).send().await.unwrap();
    let listed = sns.list_subscriptions().send().await.unwrap();
    assert!(listed.subscriptions().iter().all(|s| s.topic_arn() != Some(arn.as_str())), "deleted with the topic");
    for i in 0..105 {
        sns.create_topic().name(format!("page-{i}")).send().await.unwrap();
    }
    let first_page = sns.list_topics().send().await.unwrap();
    assert_eq!(first_page.topics().len(), 100);
    let rest = sns.list_topics().next_token(first_page.next_token().unwrap()).send().await.unwrap();
    assert_eq!(rest.topics().len(), 105 + 3 - 100, "the template's three topics and the 105");
    assert!(rest.next_token().is_none());
}

#[tokio::test]
async fn the_aws_cli_creates_subscribes_and_publishes() {
    let events = tempfile::tempdir().unwrap();
    let emulator = start(sns_options(events.path())).await;
    let endpoint = emulator.endpoints().lambda_url();
    let cli = |args: &[&str]| {
        let mut command = aws_cli();
        command.args(["sns", "--endpoint-url", &endpoint]).args(args);
        command
    };
    let created = cli(&["create-topic", "--name", "cli"]).output().await.unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(created["TopicArn"], topic_arn("cli"));
    let subscribed = cli(&[
        "subscribe",
        "--topic-arn",
        &topic_arn("cli"),
        "--protocol",
        "sqs",
        "--notification-endpoint",
        "arn:aws:sqs:eu-north-1:000000000000:orders-raw",
        "--attributes",
        "RawMessageDelivery=true",
    ])
    .output()
    .await
    .unwrap();
    assert!(subscribed.status.success(), "{}", String::from_utf8_lossy(&subscribed.stderr));
    let published = cli(&[
        "publish",
        "--topic-arn",
        &topic_arn("cli"),
        "--message",
        "from the CLI",
        "--message-attributes",
        r#"{"kind":{"DataType":"String","StringValue":"cli"}}"#,
    ])
    .output()
    .await
    .unwrap();
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    let published: Value = serde_json::from_slice(&published.stdout).unwrap();
    assert!(published["MessageId"].is_string());
    let got = drain(&sqs_client(&emulator), &queue_url(&emulator, "orders-raw")).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), Some("from the CLI"));
    let missing = cli(&["get-topic-attributes", "--topic-arn", &topic_arn("absent")]).output().await.unwrap();
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("NotFound") && said.contains("Topic does not exist"), "{said}");
}
