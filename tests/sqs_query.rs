//! SQS through the query protocol that older SDKs speak (form-encoded `Action=…` POSTs, XML replies),
//! asserting AWS's codes and shapes, one test per point of issue #21 (point 1 in three): tags, permissions and message
//! move tasks; FIFO and encryption attributes; CreateQueue's idempotency; validation errors; content-based
//! deduplication; trace headers, request ids and XML escaping; queues kept apart by region and account.
//! The requests are raw HTTP, so the wire format itself is under test (`tests/sqs.rs` covers the SDK side).
//! Every reply, success or error, must carry `x-amzn-RequestId` equal to the body's `<RequestId>`: the helpers
//! below check that on each call.

use ftb_offline_tests::*;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// The app's region (tests/fixtures/queues.yml) and the local account: what an unsigned request acts as.
const HOME_REGION: &str = "eu-north-1";
const ACCOUNT: &str = "000000000000";
/// The SHA-256 of `hello` in hex, the well-known test vector (`printf hello | sha256sum`): the deduplication id
/// content-based deduplication gives that body. Hard-coded because the tests crate has no SHA-256 crate.
const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const TRACE_HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";

/// POSTs a query-protocol request (with `Version=2012-11-05`) to the endpoint's root. With a `region`, it is
/// signed as SigV4 would sign it for that region and access key (the emulator reads the scope, never checks
/// the signature); unsigned, it acts in the app's region and account. Returns the status, the XML and the
/// `x-amzn-RequestId` header.
async fn query(
    endpoint: &str,
    region: Option<&str>,
    access_key: &str,
    pairs: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let mut body: String = pairs.iter().map(|(k, v)| format!("{}={}&", urlencode(k), urlencode(v))).collect();
    body.push_str("Version=2012-11-05");
    let mut request =
        reqwest::Client::new().post(endpoint).header("content-type", "application/x-www-form-urlencoded").body(body);
    if let Some(region) = region {
        let scope = format!("{access_key}/20261205/{region}/sqs/aws4_request");
        request = request
            .header("authorization", format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"));
    }
    let response = request.send().await.unwrap_or_else(|err| panic!("{pairs:?}: {err}"));
    let status = response.status().as_u16();
    let request_id = response.headers().get("x-amzn-requestid").and_then(|v| v.to_str().ok()).map(String::from);
    (status, response.text().await.unwrap(), request_id)
}

/// The request id of a reply: the header, which must also be the body's `<RequestId>`.
fn same_request_id(xml: &str, header: Option<String>) -> String {
    let id = header.unwrap_or_else(|| panic!("no x-amzn-RequestId header: {xml}"));
    assert!(!id.is_empty() && xml.contains(&format!("<RequestId>{id}</RequestId>")), "header {id} vs body {xml}");
    id
}

/// A successful reply's XML.
fn success((status, xml, request_id): (u16, String, Option<String>)) -> String {
    assert_eq!(status, 200, "{xml}");
    same_request_id(&xml, request_id);
    xml
}

/// An error reply in AWS's shape: `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message>
/// <Detail/></Error><RequestId>…</RequestId></ErrorResponse>`.
struct Failure {
    status: u16,
    code: String,
    message: String,
    xml: String,
}

impl Failure {
    /// Asserts the status and code; returns the message (unescaped).
    fn check(&self, status: u16, code: &str) -> &str {
        assert_eq!((self.status, self.code.as_str()), (status, code), "{}", self.xml);
        &self.message
    }
}

fn failure((status, xml, request_id): (u16, String, Option<String>)) -> Failure {
    assert!(status == 400 || status == 404, "an error, not {status}: {xml}");
    assert!(
        xml.contains("<ErrorResponse") && xml.contains("<Error><Type>Sender</Type><Code>") && xml.contains("<Detail/>"),
        "AWS's error shape: {xml}"
    );
    same_request_id(&xml, request_id);
    Failure { status, code: value(&xml, "Code"), message: value(&xml, "Message"), xml }
}

/// The raw text of every `<tag>…</tag>` in `xml`, in order.
fn raw_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

fn unescape(text: &str) -> String {
    let text = text.replace("&quot;", "\"").replace("&apos;", "'").replace("&#xD;", "\r");
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Every `<tag>` text, unescaped.
fn values(xml: &str, tag: &str) -> Vec<String> {
    raw_values(xml, tag).into_iter().map(unescape).collect()
}

/// The first `<tag>` text, unescaped.
fn value(xml: &str, tag: &str) -> String {
    values(xml, tag).into_iter().next().unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}

/// The `<Attribute><Name>…</Name><Value>…</Value></Attribute>` pairs: a queue's attributes or a message's.
fn attribute_map(xml: &str) -> BTreeMap<String, String> {
    raw_values(xml, "Attribute").into_iter().map(|a| (value(a, "Name"), value(a, "Value"))).collect()
}

/// ListQueueTags' `<Tag><Key>…</Key><Value>…</Value></Tag>` pairs.
fn tags(xml: &str) -> BTreeMap<String, String> {
    raw_values(xml, "Tag").into_iter().map(|t| (value(t, "Key"), value(t, "Value"))).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Asserts that `attributes` has each of `expected`.
fn assert_has(attributes: &BTreeMap<String, String>, expected: &[(&str, &str)]) {
    for (name, wanted) in expected {
        assert_eq!(attributes.get(*name).map(String::as_str), Some(*wanted), "{name} in {attributes:?}");
    }
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn md5_hex(text: &str) -> String {
    format!("{:x}", md5::compute(text))
}

/// MD5OfMessageSystemAttributes of one String attribute, encoded as AWS encodes message attributes: name and
/// type length-prefixed (u32, big-endian), the transport byte 1, the value length-prefixed.
fn md5_of_string_attribute(name: &str, value: &str) -> String {
    let mut bytes = Vec::new();
    for part in [name, "String"] {
        bytes.extend_from_slice(&(part.len() as u32).to_be_bytes());
        bytes.extend_from_slice(part.as_bytes());
    }
    bytes.push(1);
    bytes.extend_from_slice(&(value.len() as u32).to_be_bytes());
    bytes.extend_from_slice(value.as_bytes());
    format!("{:x}", md5::compute(&bytes))
}

/// A caller of the emulator's SQS endpoint: unsigned (the app's region and account), or signed for a region
/// with an access key (twelve digits name the account).
struct Sqs {
    endpoint: String,
    region: Option<&'static str>,
    key: &'static str,
    account: &'static str,
}

impl Sqs {
    fn home(endpoint: &str) -> Self {
        Self { endpoint: endpoint.to_string(), region: None, key: "test", account: ACCOUNT }
    }

    fn signed(endpoint: &str, region: &'static str, key: &'static str) -> Self {
        let account = if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) { key } else { ACCOUNT };
        Self { endpoint: endpoint.to_string(), region: Some(region), key, account }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.endpoint, self.account)
    }

    fn arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region.unwrap_or(HOME_REGION), self.account)
    }

    async fn call(&self, pairs: &[(&str, &str)]) -> (u16, String, Option<String>) {
        query(&self.endpoint, self.region, self.key, pairs).await
    }

    async fn ok(&self, pairs: &[(&str, &str)]) -> String {
        success(self.call(pairs).await)
    }

    async fn fails(&self, pairs: &[(&str, &str)]) -> Failure {
        failure(self.call(pairs).await)
    }

    /// CreateQueue with `attributes` as `Attribute.N.Name` / `Attribute.N.Value`: the raw reply.
    async fn create_reply(&self, name: &str, attributes: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let mut pairs = vec![("Action".to_string(), "CreateQueue".to_string()), ("QueueName".into(), name.into())];
        for (i, (attribute, setting)) in attributes.iter().enumerate() {
            pairs.push((format!("Attribute.{}.Name", i + 1), attribute.to_string()));
            pairs.push((format!("Attribute.{}.Value", i + 1), setting.to_string()));
        }
        self.call(&borrowed(&pairs)).await
    }

    /// CreateQueue that succeeds: the queue's URL, checked against the expected form.
    async fn create(&self, name: &str, attributes: &[(&str, &str)]) -> String {
        let url = value(&success(self.create_reply(name, attributes).await), "QueueUrl");
        assert_eq!(url, self.url(name));
        url
    }

    /// GetQueueAttributes with `AttributeName.N`.
    async fn attributes(&self, url: &str, names: &[&str]) -> BTreeMap<String, String> {
        let mut pairs = vec![("Action".to_string(), "GetQueueAttributes".to_string()), ("QueueUrl".into(), url.into())];
        pairs.extend(names.iter().enumerate().map(|(i, n)| (format!("AttributeName.{}", i + 1), n.to_string())));
        attribute_map(&success(self.call(&borrowed(&pairs)).await))
    }

    /// ApproximateNumberOfMessages.
    async fn count(&self, url: &str) -> String {
        self.attributes(url, &["ApproximateNumberOfMessages"]).await["ApproximateNumberOfMessages"].clone()
    }
}

#[tokio::test]
async fn tags_are_set_at_creation_added_listed_and_removed() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let from_yaml = sqs.ok(&[("Action", "ListQueueTags"), ("QueueUrl", &sqs.url("tagged"))]).await;
    assert_eq!(tags(&from_yaml), map(&[("cost-centre", "42"), ("team", "backend")]), "{from_yaml}");

    let created = sqs
        .ok(&[("Action", "CreateQueue"), ("QueueName", "labelled"), ("Tag.1.Key", "env"), ("Tag.1.Value", "dev")])
        .await;
    let url = value(&created, "QueueUrl");
    assert_eq!(url, sqs.url("labelled"));
    let list = [("Action", "ListQueueTags"), ("QueueUrl", url.as_str())];
    assert_eq!(tags(&sqs.ok(&list).await), map(&[("env", "dev")]));
    let tag = [("Tag.1.Key", "env"), ("Tag.1.Value", "prod"), ("Tag.2.Key", "owner"), ("Tag.2.Value", "me")];
    sqs.ok(&[&[("Action", "TagQueue"), ("QueueUrl", url.as_str())][..], &tag].concat()).await;
    assert_eq!(tags(&sqs.ok(&list).await), map(&[("env", "prod"), ("owner", "me")]), "TagQueue overwrites and adds");
    sqs.ok(&[("Action", "UntagQueue"), ("QueueUrl", &url), ("TagKey.1", "env"), ("TagKey.2", "owner")]).await;
    let untagged = sqs.ok(&list).await;
    assert!(untagged.contains("<ListQueueTagsResult") && !untagged.contains("<Tag>"), "{untagged}");

    let missing_url = sqs.url("missing");
    let missing = sqs.fails(&[&[("Action", "TagQueue"), ("QueueUrl", missing_url.as_str())][..], &tag].concat()).await;
    missing.check(400, "AWS.SimpleQueueService.NonExistentQueue");
}

#[tokio::test]
async fn add_permission_writes_the_queue_policy_and_remove_permission_takes_it_back() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let url = sqs.create("guarded", &[]).await;
    let grant = [
        ("Action", "AddPermission"),
        ("QueueUrl", url.as_str()),
        ("Label", "partner"),
        ("AWSAccountId.1", "111111111111"),
        ("ActionName.1", "SendMessage"),
    ];
    sqs.ok(&grant).await;
    let reply = sqs.ok(&[("Action", "GetQueueAttributes"), ("QueueUrl", &url), ("AttributeName.1", "Policy")]).await;
    assert!(reply.contains("&quot;Statement&quot;"), "the policy JSON is XML-escaped: {reply}");
    let policy: serde_json::Value = serde_json::from_str(&attribute_map(&reply)["Policy"]).unwrap();
    assert_eq!(policy["Version"], "2008-10-17", "{policy}");
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Sid"], "partner", "{policy}");
    assert_eq!(statement["Effect"], "Allow", "{policy}");
    assert_eq!(statement["Principal"]["AWS"], "arn:aws:iam::111111111111:root", "{policy}");
    assert_eq!(statement["Action"], "SQS:SendMessage", "{policy}");
    assert_eq!(statement["Resource"], sqs.arn("guarded").as_str(), "{policy}");

    assert_eq!(
        sqs.fails(&grant).await.check(400, "InvalidParameterValue"),
        "Value partner for parameter Label is invalid. Reason: Already exists."
    );
    let revoke = [("Action", "RemovePermission"), ("QueueUrl", url.as_str()), ("Label", "partner")];
    sqs.ok(&revoke).await;
    let left = sqs.attributes(&url, &["Policy"]).await;
    assert!(left.is_empty(), "removing the last statement removes the policy: {left:?}");
    sqs.fails(&revoke).await.check(400, "InvalidParameterValue");
}

#[tokio::test]
async fn a_message_move_task_redrives_a_dead_letter_queue_to_its_sources() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let (dlq, dlq_arn) = (sqs.create("dlq", &[]).await, sqs.arn("dlq"));
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":1}}"#);
    let src = sqs.create("src", &[("RedrivePolicy", &redrive)]).await;
    for body in ["one", "two", "three"] {
        sqs.ok(&[("Action", "SendMessage"), ("QueueUrl", &src), ("MessageBody", body)]).await;
    }
    // The first receive counts 1; with maxReceiveCount 1 the next one moves the messages to the DLQ instead.
    let receive = [("Action", "ReceiveMessage"), ("QueueUrl", src.as_str()), ("MaxNumberOfMessages", "10")];
    let deadline = Instant::now() + Duration::from_secs(10);
    while sqs.count(&dlq).await != "3" {
        assert!(Instant::now() < deadline, "the three messages did not reach the dead-letter queue");
        sqs.ok(&[&receive[..], &[("VisibilityTimeout", "0")]].concat()).await;
        sleep(Duration::from_millis(50)).await;
    }

    let started = sqs.ok(&[("Action", "StartMessageMoveTask"), ("SourceArn", &dlq_arn)]).await;
    assert!(!value(&started, "TaskHandle").is_empty(), "{started}");
    let list = [("Action", "ListMessageMoveTasks"), ("SourceArn", dlq_arn.as_str())];
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = sqs.ok(&list).await;
        if values(&listed, "Status").first().map(String::as_str) == Some("COMPLETED") {
            break listed;
        }
        assert!(Instant::now() < deadline, "the move task did not complete: {listed}");
        sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(value(&listed, "ApproximateNumberOfMessagesMoved"), "3", "{listed}");
    assert_eq!(sqs.count(&src).await, "3", "back in their source queue");
    assert_eq!(sqs.count(&dlq).await, "0");

    let not_a_dlq = sqs.fails(&[("Action", "StartMessageMoveTask"), ("SourceArn", &sqs.arn("src"))]).await;
    let message = not_a_dlq.check(400, "InvalidParameterValue");
    assert_eq!(message, "Source queue must be configured as a Dead Letter Queue.");
    let unknown = sqs.fails(&[("Action", "StartMessageMoveTask"), ("SourceArn", &sqs.arn("nowhere"))]).await;
    unknown.check(404, "ResourceNotFoundException");
    sqs.fails(&[("Action", "CancelMessageMoveTask"), ("TaskHandle", "foobared")])
        .await
        .check(400, "InvalidParameterValue");
}

#[tokio::test]
async fn fifo_and_encryption_attributes_read_as_on_aws() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let url = sqs.create("f.fifo", &[("FifoQueue", "true")]).await;
    let all = sqs.attributes(&url, &["All"]).await;
    assert_has(
        &all,
        &[
            ("FifoQueue", "true"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
            ("SqsManagedSseEnabled", "true"),
            ("ContentBasedDeduplication", "false"),
        ],
    );
    assert!(!all.contains_key("KmsMasterKeyId") && !all.contains_key("KmsDataKeyReusePeriodSeconds"), "{all:?}");

    let kms = [("Attribute.1.Name", "KmsMasterKeyId"), ("Attribute.1.Value", "alias/aws/sqs")];
    sqs.ok(&[&[("Action", "SetQueueAttributes"), ("QueueUrl", url.as_str())][..], &kms].concat()).await;
    let all = sqs.attributes(&url, &["All"]).await;
    assert_has(
        &all,
        &[
            ("KmsMasterKeyId", "alias/aws/sqs"),
            ("KmsDataKeyReusePeriodSeconds", "300"),
            ("SqsManagedSseEnabled", "false"),
        ],
    );

    let nothing = sqs.ok(&[("Action", "GetQueueAttributes"), ("QueueUrl", &url)]).await;
    let empty = nothing.contains("<GetQueueAttributesResult></GetQueueAttributesResult>")
        || nothing.contains("<GetQueueAttributesResult/>");
    assert!(empty && !nothing.contains("<Attribute>"), "no names, no attributes: {nothing}");
}

#[tokio::test]
async fn create_queue_is_idempotent_when_the_redrive_policy_means_the_same() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    sqs.create("dlq", &[]).await;
    let dlq = sqs.arn("dlq");
    // Python's json.dumps spacing, then compact with the count as a string: the same policy to SQS.
    let spaced = format!(r#"{{"deadLetterTargetArn": "{dlq}", "maxReceiveCount": 5}}"#);
    let compact = format!(r#"{{"deadLetterTargetArn":"{dlq}","maxReceiveCount":"5"}}"#);
    let different = format!(r#"{{"deadLetterTargetArn":"{dlq}","maxReceiveCount":6}}"#);
    let url = sqs.create("idem", &[("RedrivePolicy", &spaced)]).await;
    assert_eq!(sqs.create("idem", &[("RedrivePolicy", &compact)]).await, url);
    assert_eq!(sqs.create("idem", &[]).await, url, "no attributes: the queue as it is");
    let clash = failure(sqs.create_reply("idem", &[("RedrivePolicy", &different)]).await);
    assert_eq!(
        clash.check(400, "QueueAlreadyExists"),
        "A queue already exists with the same name and a different value for attribute RedrivePolicy"
    );
}

#[tokio::test]
async fn invalid_requests_get_aws_error_codes_and_messages() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let plain = sqs.create("plain", &[]).await;
    let fifo = sqs.create("order.fifo", &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]).await;
    let long_id = "x".repeat(81);
    for id in ["bad id", long_id.as_str()] {
        let entry = [("SendMessageBatchRequestEntry.1.Id", id), ("SendMessageBatchRequestEntry.1.MessageBody", "b")];
        let batch = [&[("Action", "SendMessageBatch"), ("QueueUrl", plain.as_str())][..], &entry].concat();
        sqs.fails(&batch).await.check(400, "AWS.SimpleQueueService.InvalidBatchEntryId");
    }

    let colour = failure(sqs.create_reply("odd", &[("Colour", "blue")]).await);
    assert_eq!(colour.check(400, "InvalidAttributeName"), "Unknown Attribute Colour.");
    let foobar = [("Action", "GetQueueAttributes"), ("QueueUrl", plain.as_str()), ("AttributeName.1", "Foobar")];
    assert_eq!(sqs.fails(&foobar).await.check(400, "InvalidAttributeName"), "Unknown Attribute Foobar.");
    let reserved = [
        ("Action", "SendMessage"),
        ("QueueUrl", plain.as_str()),
        ("MessageBody", "b"),
        ("MessageAttribute.1.Name", "AWS.reserved"),
        ("MessageAttribute.1.Value.DataType", "String"),
        ("MessageAttribute.1.Value.StringValue", "x"),
    ];
    sqs.fails(&reserved).await.check(400, "InvalidParameterValue");

    let ghost = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#, sqs.arn("ghost"));
    let orphan = failure(sqs.create_reply("orphan", &[("RedrivePolicy", &ghost)]).await);
    let message = orphan.check(400, "InvalidParameterValue");
    assert!(message.contains("for parameter RedrivePolicy is invalid."), "{message}");
    assert!(message.ends_with("Reason: Dead letter target does not exist."), "{message}");
    let standard = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":3}}"#, sqs.arn("plain"));
    let mixed = failure(sqs.create_reply("mixed.fifo", &[("FifoQueue", "true"), ("RedrivePolicy", &standard)]).await);
    let message = mixed.check(400, "InvalidParameterValue");
    assert!(message.contains("Dead-letter queue must be same type of queue as the source."), "{message}");

    let no_group = sqs.fails(&[("Action", "SendMessage"), ("QueueUrl", &fifo), ("MessageBody", "b")]).await;
    assert_eq!(no_group.check(400, "MissingParameter"), "The request must contain the parameter MessageGroupId.");
    let batch = [
        ("Action", "SendMessageBatch"),
        ("QueueUrl", fifo.as_str()),
        ("SendMessageBatchRequestEntry.1.Id", "grouped"),
        ("SendMessageBatchRequestEntry.1.MessageBody", "one"),
        ("SendMessageBatchRequestEntry.1.MessageGroupId", "g"),
        ("SendMessageBatchRequestEntry.2.Id", "loose"),
        ("SendMessageBatchRequestEntry.2.MessageBody", "two"),
    ];
    let whole = sqs.fails(&batch).await;
    assert_eq!(whole.check(400, "InvalidParameterValue"), "The request must contain the parameter MessageGroupId.");
    assert_eq!(sqs.count(&fifo).await, "0", "the whole batch is refused");

    let late = [("Action", "SendMessage"), ("QueueUrl", plain.as_str()), ("MessageBody", "b"), ("DelaySeconds", "901")];
    let late = sqs.fails(&late).await;
    assert_eq!(
        late.check(400, "InvalidParameterValue"),
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
    );
    assert!(late.xml.contains("DelaySeconds must be &gt;= 0 and &lt;= 900."), "{}", late.xml);
}

#[tokio::test]
async fn content_based_deduplication_uses_the_sha256_of_the_body() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let url = sqs.create("cb.fifo", &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]).await;
    let send =
        [("Action", "SendMessage"), ("QueueUrl", url.as_str()), ("MessageBody", "hello"), ("MessageGroupId", "g")];
    let first = sqs.ok(&send).await;
    assert!(first.contains("<SequenceNumber>"), "{first}");
    let again = sqs.ok(&[&send[..], &[("MessageDeduplicationId", HELLO_SHA256)]].concat()).await;
    assert_eq!(value(&again, "MessageId"), value(&first, "MessageId"), "deduplicated: the first message's id");
    assert_eq!(sqs.count(&url).await, "1", "one message, not two");

    let received = sqs.ok(&[("Action", "ReceiveMessage"), ("QueueUrl", &url), ("AttributeName.1", "All")]).await;
    assert_eq!(value(&received, "Body"), "hello");
    assert_has(&attribute_map(&received), &[("MessageDeduplicationId", HELLO_SHA256), ("MessageGroupId", "g")]);
}

#[tokio::test]
async fn trace_headers_request_ids_and_awkward_bodies_round_trip() {
    let emulator = start(queues_options()).await;
    let sqs = Sqs::home(&emulator.endpoints().lambda_url());
    let traced = sqs.create("traced", &[]).await;
    let sent = sqs
        .ok(&[
            ("Action", "SendMessage"),
            ("QueueUrl", &traced),
            ("MessageBody", "traced"),
            ("MessageSystemAttribute.1.Name", "AWSTraceHeader"),
            ("MessageSystemAttribute.1.Value.DataType", "String"),
            ("MessageSystemAttribute.1.Value.StringValue", TRACE_HEADER),
        ])
        .await;
    assert_eq!(value(&sent, "MD5OfMessageSystemAttributes"), md5_of_string_attribute("AWSTraceHeader", TRACE_HEADER));
    let received = sqs.ok(&[("Action", "ReceiveMessage"), ("QueueUrl", &traced), ("AttributeName.1", "All")]).await;
    assert_has(&attribute_map(&received), &[("AWSTraceHeader", TRACE_HEADER)]);

    // A carriage return must arrive as `&#xD;`: an XML parser reads a raw one as a line feed, breaking MD5OfBody.
    let bodies = sqs.create("bodies", &[]).await;
    let body = "a\r\nb \"q\" <x> & é";
    let sent = sqs.ok(&[("Action", "SendMessage"), ("QueueUrl", &bodies), ("MessageBody", body)]).await;
    assert_eq!(value(&sent, "MD5OfMessageBody"), md5_hex(body));
    let received = sqs.ok(&[("Action", "ReceiveMessage"), ("QueueUrl", &bodies)]).await;
    assert!(received.contains("&#xD;"), "{received}");
    assert_eq!(value(&received, "Body"), body);
    assert_eq!(value(&received, "MD5OfBody"), md5_hex(body));

    // Successes and errors alike: a request id in the header and the body, a new one each time.
    let replies = [
        sqs.call(&[("Action", "ListQueues")]).await,
        sqs.call(&[("Action", "GetQueueUrl"), ("QueueName", "traced")]).await,
        sqs.call(&[("Action", "GetQueueUrl"), ("QueueName", "missing")]).await,
        sqs.call(&[("Action", "SendMessage"), ("QueueUrl", &bodies)]).await,
    ];
    let mut seen = HashSet::new();
    for (_, xml, request_id) in replies {
        assert!(seen.insert(same_request_id(&xml, request_id)), "request ids repeat");
    }
}

#[tokio::test]
async fn regions_and_accounts_keep_their_own_queues() {
    let emulator = start(queues_options()).await;
    let endpoint = emulator.endpoints().lambda_url();
    let home = Sqs::home(&endpoint);
    let us = Sqs::signed(&endpoint, "us-east-1", "test");
    let eu = Sqs::signed(&endpoint, "eu-west-1", "test");
    let us_url = us.create("shared", &[]).await;
    let eu_url = eu.create("shared", &[]).await;
    // The same URL (`/000000000000/shared`): the signature's region says which queue it is.
    assert_eq!(us.attributes(&us_url, &["QueueArn"]).await["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:shared");
    assert_eq!(eu.attributes(&eu_url, &["QueueArn"]).await["QueueArn"], "arn:aws:sqs:eu-west-1:000000000000:shared");

    assert_eq!(values(&us.ok(&[("Action", "ListQueues")]).await, "QueueUrl"), vec![us_url.clone()]);
    let at_home = values(&home.ok(&[("Action", "ListQueues")]).await, "QueueUrl");
    assert!(at_home.contains(&home.url("tagged")), "{at_home:?}");
    assert!(!at_home.iter().any(|url| url.ends_with("/shared")), "{at_home:?}");

    us.ok(&[("Action", "SendMessage"), ("QueueUrl", &us_url), ("MessageBody", "only in us-east-1")]).await;
    assert_eq!(us.count(&us_url).await, "1");
    assert_eq!(eu.count(&eu_url).await, "0");

    // A twelve-digit access key is the account (LocalStack's convention): another account's `shared`.
    let other = Sqs::signed(&endpoint, "us-east-1", "111111111111");
    let other_url = other.create("shared", &[]).await;
    assert_eq!(other_url, format!("{endpoint}/111111111111/shared"));
    let arn = other.attributes(&other_url, &["QueueArn"]).await["QueueArn"].clone();
    assert_eq!(arn, "arn:aws:sqs:us-east-1:111111111111:shared");
    assert_eq!(other.count(&other_url).await, "0", "a separate queue");
}
