//! The serverless.yml loader: each variable source, each intrinsic, error messages with their locations, and a
//! few real-world shapes written from the Serverless Framework v3 documentation.

use ftb_offline::aws::endpoints::LocalEndpoints;
use ftb_offline::config::intrinsics::Intrinsics;
use ftb_offline::config::{self, ConfigError, Event, LoadOptions, Service};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn options(env: &[(&str, &str)]) -> LoadOptions {
    let env: BTreeMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    LoadOptions { env: Arc::new(move |name| env.get(name).cloned()), ..LoadOptions::default() }
}

fn load(text: &str) -> Result<Service, ConfigError> {
    load_with(text, options(&[]))
}

fn load_with(text: &str, options: LoadOptions) -> Result<Service, ConfigError> {
    config::load_str(text, &fixtures_dir().join("serverless.yml"), &options)
}

fn endpoints() -> LocalEndpoints {
    LocalEndpoints { host: "127.0.0.1".into(), http_port: 4000, websocket_port: 4001, lambda_port: 4002, s3_port: 4569 }
}

/// The resolved environment of one function.
fn env_of(service: &Service, function: &str) -> BTreeMap<String, String> {
    let endpoints = endpoints();
    Intrinsics::new(service, &endpoints).environment(&service.functions[function]).unwrap().into_iter().collect()
}

const BASE: &str = "service: demo\nprovider:\n  name: aws\n";

fn with_env(lines: &str) -> String {
    format!("{BASE}  environment:\n{lines}functions:\n  fn:\n    handler: bootstrap\n")
}

// ---- variable sources ----

#[test]
fn self_references_resolve_through_other_variables() {
    let text = format!("{BASE}  environment:\n    A: ${{self:custom.table}}\ncustom:\n  base: tasks\n  table: ${{self:custom.base}}-table\nfunctions:\n  fn: {{ handler: bootstrap }}\n");
    assert_eq!(env_of(&load(&text).unwrap(), "fn")["A"], "tasks-table");
}

#[test]
fn opt_stage_and_region_come_from_the_options_then_the_file_then_defaults() {
    let text = with_env("    S: ${opt:stage, 'none'}\n    R: ${aws:region}\n    ST: ${sls:stage}\n");
    let service = load(&text).unwrap();
    assert_eq!((service.stage.as_str(), service.region.as_str()), ("dev", "us-east-1"));
    assert_eq!(env_of(&service, "fn")["S"], "none");
    let service =
        load_with(&text, LoadOptions { stage: Some("qa".into()), region: Some("eu-west-1".into()), ..options(&[]) })
            .unwrap();
    let env = env_of(&service, "fn");
    assert_eq!((env["S"].as_str(), env["R"].as_str(), env["ST"].as_str()), ("qa", "eu-west-1", "qa"));
    let from_file = "service: demo\nprovider:\n  name: aws\n  stage: prod\n  region: ap-south-1\n".to_string();
    let service = load(&from_file).unwrap();
    assert_eq!((service.stage.as_str(), service.region.as_str()), ("prod", "ap-south-1"));
}

#[test]
fn env_variables_with_and_without_fallbacks() {
    let text = with_env("    A: ${env:PRESENT}\n    B: ${env:ABSENT, 'fallback'}\n    C: ${env:ABSENT, env:PRESENT}\n    D: ${env:ABSENT, 42}\n");
    let env = env_of(&load_with(&text, options(&[("PRESENT", "yes")])).unwrap(), "fn");
    assert_eq!([&env["A"], &env["B"], &env["C"], &env["D"]], ["yes", "fallback", "yes", "42"]);
}

#[test]
fn params_come_from_the_command_line_then_the_stage_then_default() {
    let text = format!("{BASE}  environment:\n    RATE: ${{param:rate}}\n    NAME: ${{param:name}}\nparams:\n  default:\n    rate: '0.3'\n    name: base\n  qa:\n    rate: '1'\nfunctions:\n  fn: {{ handler: bootstrap }}\n");
    assert_eq!(env_of(&load(&text).unwrap(), "fn")["RATE"], "0.3");
    let qa = load_with(&text, LoadOptions { stage: Some("qa".into()), ..options(&[]) }).unwrap();
    assert_eq!((env_of(&qa, "fn")["RATE"].as_str(), env_of(&qa, "fn")["NAME"].as_str()), ("1", "base"));
    let cli = LoadOptions { params: [("name".to_string(), "cli".to_string())].into(), ..options(&[]) };
    assert_eq!(env_of(&load_with(&text, cli).unwrap(), "fn")["NAME"], "cli");
}

#[test]
fn file_variables_read_yaml_and_json_and_resolve_variables_inside() {
    let text = format!("{BASE}  memorySize: ${{file(./settings.json):memory}}\n  environment:\n    T: ${{file(./included.yml):tableName}}\n    N: ${{file(./included.yml):nested.value}}\n    M: ${{file(./missing.yml):x, 'no-file'}}\ncustom:\n  base: app\nfunctions:\n  fn: {{ handler: bootstrap }}\n");
    let service = load(&text).unwrap();
    assert_eq!(service.functions["fn"].memory_size_mb, 512);
    let env = env_of(&service, "fn");
    assert_eq!([&env["T"], &env["N"], &env["M"]], ["from-file", "app-nested", "no-file"]);
}

#[test]
fn nested_variables_and_interpolation_inside_strings() {
    let text = format!("{BASE}  environment:\n    X: prefix-${{self:custom.${{sls:stage}}.name}}-${{sls:stage}}\ncustom:\n  dev:\n    name: development\nfunctions:\n  fn: {{ handler: bootstrap }}\n");
    assert_eq!(env_of(&load(&text).unwrap(), "fn")["X"], "prefix-development-dev");
}

#[test]
fn a_whole_string_variable_keeps_its_type() {
    let text = format!("{BASE}  timeout: ${{self:custom.seconds}}\ncustom:\n  seconds: 12\nfunctions:\n  fn: {{ handler: bootstrap }}\n");
    assert_eq!(load(&text).unwrap().functions["fn"].timeout_seconds, 12.0);
}

#[test]
fn cloudformation_sub_variables_are_left_for_cloudformation() {
    let text = with_env("    ARN: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q-${sls:stage}'\n");
    assert_eq!(env_of(&load(&text).unwrap(), "fn")["ARN"], "arn:aws:sqs:us-east-1:000000000000:q-dev");
}

// ---- intrinsics ----

fn resources_service() -> Service {
    let text = r#"
service: shop
provider:
  name: aws
  region: eu-north-1
  environment:
    QUEUE_URL: !Ref Orders
    QUEUE_ARN: !GetAtt Orders.Arn
    QUEUE_NAME: { "Fn::GetAtt": [Orders, QueueName] }
    TABLE: !Ref Items
    TABLE_ARN: !GetAtt Items.Arn
    DEFAULT_NAMED: !Ref Unnamed
    JOINED: !Join [':', [a, !Ref AWS::Region, !Ref AWS::AccountId]]
    SELECTED: !Select [1, [zero, one, two]]
    SPLIT_SELECT: !Select [2, !Split ['-', 'a-b-c']]
    STACK: !Ref AWS::StackName
    CONDITIONAL: !If [IsProd, prod-value, other-value]
    B64: !Base64 hi
    FN_ARN: !GetAtt WorkerLambdaFunction.Arn
    FN_NAME: !Ref WorkerLambdaFunction
    WS: !Join ['', ['https://', !Ref WebsocketsApi, '.execute-api.', !Ref AWS::Region, '.amazonaws.com/', '${sls:stage}']]
    WS_ENDPOINT: !GetAtt WebsocketsApi.ApiEndpoint
    GONE: !Ref AWS::NoValue
functions:
  worker:
    handler: bootstrap
resources:
  Conditions:
    IsProd: !Equals ['${sls:stage}', prod]
  Resources:
    Orders:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: orders-${sls:stage}
    Items:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: items
    Unnamed:
      Type: AWS::SQS::Queue
"#;
    load(text).unwrap()
}

#[test]
fn ref_and_get_att_resolve_to_local_queue_urls_names_and_arns() {
    let env = env_of(&resources_service(), "worker");
    assert_eq!(env["QUEUE_URL"], "http://127.0.0.1:4002/000000000000/orders-dev");
    assert_eq!(env["QUEUE_ARN"], "arn:aws:sqs:eu-north-1:000000000000:orders-dev");
    assert_eq!(env["QUEUE_NAME"], "orders-dev");
    assert_eq!(env["TABLE"], "items");
    assert_eq!(env["TABLE_ARN"], "arn:aws:dynamodb:eu-north-1:000000000000:table/items");
    assert_eq!(env["DEFAULT_NAMED"], "http://127.0.0.1:4002/000000000000/shop-dev-Unnamed");
    assert_eq!(env["FN_ARN"], "arn:aws:lambda:eu-north-1:000000000000:function:shop-dev-worker");
    assert_eq!(env["FN_NAME"], "shop-dev-worker");
}

#[test]
fn join_select_split_if_base64_and_pseudo_parameters() {
    let env = env_of(&resources_service(), "worker");
    assert_eq!(env["JOINED"], "a:eu-north-1:000000000000");
    assert_eq!(env["SELECTED"], "one");
    assert_eq!(env["SPLIT_SELECT"], "c");
    assert_eq!(env["STACK"], "shop-dev");
    assert_eq!(env["CONDITIONAL"], "other-value");
    assert_eq!(env["B64"], "aGk=");
    assert!(!env.contains_key("GONE"), "AWS::NoValue removes the key");
}

#[test]
fn generated_api_references_point_at_the_local_endpoints() {
    let env = env_of(&resources_service(), "worker");
    assert_eq!(env["WS"], "http://127.0.0.1:4001/dev");
    assert_eq!(env["WS_ENDPOINT"], "ws://127.0.0.1:4001");
}

#[test]
fn the_endpoints_follow_the_bound_ports() {
    let service = resources_service();
    let endpoints =
        LocalEndpoints { host: "127.0.0.1".into(), http_port: 1, websocket_port: 2, lambda_port: 3, s3_port: 4 };
    let env = Intrinsics::new(&service, &endpoints).environment(&service.functions["worker"]).unwrap();
    assert_eq!(env["QUEUE_URL"], "http://127.0.0.1:3/000000000000/orders-dev");
    assert_eq!(env["WS"], "http://127.0.0.1:2/dev");
}

// ---- errors ----

fn error(text: &str) -> ConfigError {
    load(text).expect_err("this configuration must be rejected")
}

fn assert_error(err: &ConfigError, line: usize, key_path: &str, words: &[&str]) {
    let location = err.location.as_ref().unwrap_or_else(|| panic!("no location in: {err}"));
    assert_eq!(location.line, line, "line of: {err}");
    assert!(location.file.ends_with("serverless.yml"), "file of: {err}");
    assert_eq!(err.key_path, key_path, "key path of: {err}");
    for word in words {
        assert!(err.message.contains(word), "`{word}` missing from: {err}");
    }
}

#[test]
fn yaml_syntax_errors_give_line_and_column() {
    let err = error("service: demo\nprovider:\n  name: aws\n  environment: [unclosed\nfunctions: {}\n");
    let location = err.location.clone().unwrap();
    assert!(location.line >= 4, "{err}");
    assert!(err.message.contains("YAML syntax error"), "{err}");
    assert!(err.to_string().starts_with(&format!("{}:", location.file.display())), "{err}");
}

#[test]
fn a_wrong_type_names_the_key_the_line_and_what_was_expected() {
    let err = error("service: demo\nprovider:\n  name: aws\n  timeout: soon\n");
    assert_error(&err, 4, "provider.timeout", &["invalid value", "soon", "expected a number"]);
    let err = error(
        "service: demo\nprovider:\n  name: aws\nfunctions:\n  fn:\n    handler: bootstrap\n    memorySize: [1]\n",
    );
    assert_error(&err, 7, "functions.fn.memorySize", &["invalid value", "expected a number"]);
}

#[test]
fn numbers_may_come_as_strings_as_cli_params_do() {
    let text = "service: demo\nprovider:\n  name: aws\n  timeout: ${param:t}\nfunctions:\n  fn:\n    handler: bootstrap\n    memorySize: '256'\n";
    let options = LoadOptions { params: [("t".to_string(), "7".to_string())].into(), ..options(&[]) };
    let service = load_with(text, options).unwrap();
    let function = &service.functions["fn"];
    assert_eq!((function.timeout_seconds, function.memory_size_mb), (7.0, 256));
}

#[test]
fn asynchronous_retry_settings_default_to_lambdas_and_are_range_checked() {
    let fn_with = |line: &str| format!("{BASE}functions:\n  fn:\n    handler: bootstrap\n{line}");
    let service = load(&fn_with("    maximumRetryAttempts: 0\n    maximumEventAge: 60\n")).unwrap();
    let function = &service.functions["fn"];
    assert_eq!((function.maximum_retry_attempts, function.maximum_event_age_seconds), (0, 60));
    let defaults = &load(&fn_with("")).unwrap().functions["fn"];
    assert_eq!((defaults.maximum_retry_attempts, defaults.maximum_event_age_seconds), (2, 21600));
    let err = error(&fn_with("    maximumRetryAttempts: 3\n"));
    assert_error(&err, 7, "functions.fn.maximumRetryAttempts", &["from 0 to 2", "3"]);
    let err = error(&fn_with("    maximumEventAge: 30\n"));
    assert_error(&err, 7, "functions.fn.maximumEventAge", &["from 60 to 21600"]);
}

#[test]
fn str_to_bool_turns_text_into_a_boolean() {
    let text = format!("{BASE}functions:\n  fn:\n    handler: bootstrap\ncustom:\n  on: ${{strToBool(${{env:FLAG, 'false'}})}}\n  one: ${{strToBool(1)}}\n");
    let service = load_with(&text, options(&[("FLAG", "true")])).unwrap();
    assert_eq!((&service.custom["on"], &service.custom["one"]), (&json!(true), &json!(true)));
    let service = load(&text).unwrap();
    assert_eq!(service.custom["on"], json!(false));
    let err = error(&format!("{BASE}custom:\n  on: ${{strToBool(maybe)}}\n"));
    assert_error(&err, 5, "custom.on", &["`strToBool` expects", "\"maybe\""]);
}

#[test]
fn an_unknown_variable_source_is_an_error() {
    let err = error(&with_env("    A: ${nope:thing}\n"));
    assert_error(
        &err,
        5,
        "provider.environment.A",
        &["unknown variable source `nope`", "self, opt, sls, env, param, file"],
    );
}

#[test]
fn an_unresolvable_variable_says_why_and_suggests_a_fallback() {
    let err = error(&with_env("    A: ${env:SURELY_NOT_SET}\n"));
    assert_error(&err, 5, "provider.environment.A", &["SURELY_NOT_SET is not set", "fallback"]);
    let err = error(&with_env("    A: ${ssm:/path}\n"));
    assert_error(&err, 5, "provider.environment.A", &["deployed AWS account"]);
}

#[test]
fn a_variable_cycle_names_the_chain() {
    let err = error(&format!("{BASE}custom:\n  a: ${{self:custom.b}}\n  b: ${{self:custom.a}}\n"));
    assert!(err.message.contains("variable cycle"), "{err}");
    assert!(err.message.contains("custom.a") && err.message.contains("custom.b"), "{err}");
    assert!(err.location.is_some(), "{err}");
}

#[test]
fn a_missing_ref_target_is_reported_with_its_location() {
    let service = load(&with_env("    Q: !Ref NoSuchQueue\n")).unwrap();
    let endpoints = endpoints();
    let err = Intrinsics::new(&service, &endpoints).environment(&service.functions["fn"]).unwrap_err();
    assert_error(&err, 5, "provider.environment.Q.Ref", &["NoSuchQueue", "names no resource"]);
}

#[test]
fn an_unknown_tag_is_an_error() {
    let err = error(&with_env("    A: !Reff Thing\n"));
    assert!(err.message.contains("unknown YAML tag `!Reff`"), "{err}");
    assert_eq!(err.location.unwrap().line, 5);
}

#[test]
fn missing_service_and_provider_are_explained() {
    assert!(error("provider:\n  name: aws\n").message.contains("missing `service`"));
    assert!(error("service: x\n").message.contains("missing `provider`"));
    assert!(error("service: x\nprovider:\n  name: azure\n").message.contains("expected `aws`"));
}

#[test]
fn a_bad_event_names_its_path() {
    let err = error(&format!("{BASE}functions:\n  fn:\n    handler: bootstrap\n    events:\n      - http: FETCH /x\n"));
    assert_error(&err, 8, "functions.fn.events.0.http", &["unknown HTTP method `FETCH`"]);
}

// ---- real-world shapes ----

#[test]
fn the_fault_tolerant_app_loads_with_every_function_and_event() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../serverless.yml");
    let service = config::load(&path, &options(&[])).unwrap();
    assert_eq!(service.service, "fault-tolerant-app-backend");
    assert_eq!((service.stage.as_str(), service.region.as_str()), ("dev", "eu-north-1"));
    let keys: Vec<&str> = service.functions.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "submitTask",
            "getTasks",
            "processTask",
            "dlqHandler",
            "sweepTasks",
            "taskStats",
            "getStats",
            "wsConnect",
            "wsDisconnect",
            "wsDefault"
        ]
    );
    assert_eq!(service.functions["submitTask"].binary_name().as_deref(), Some("submit-task"));
    let Event::Http(http) = &service.functions["submitTask"].events[0] else { panic!("submitTask has an http event") };
    assert_eq!((http.method.as_str(), http.path.as_str()), ("POST", "/tasks"));
    assert_eq!(http.cors.as_ref().unwrap().origins, ["http://localhost:4200"]);
    let Event::Sqs(sqs) = &service.functions["processTask"].events[0] else { panic!("processTask has an sqs event") };
    assert_eq!(sqs.batch_size, 1);
    assert!(sqs.report_batch_item_failures);
    let Event::Websocket(ws) = &service.functions["wsConnect"].events[0] else {
        panic!("wsConnect has a websocket event")
    };
    assert_eq!(ws.route, "$connect");
    let env = env_of(&service, "processTask");
    assert_eq!(env["TASKS_QUEUE_URL"], "http://127.0.0.1:4002/000000000000/fault-tolerant-app-backend-tasks-dev");
    assert_eq!(env["TASKS_TABLE"], "fault-tolerant-app-backend-tasks-dev");
    assert_eq!(env["WEBSOCKET_ENDPOINT"], "http://127.0.0.1:4001/dev");
    assert_eq!(env["FAILURE_RATE"], "0.3");
    let queue = &service.resources.resources["TasksQueue"];
    let endpoints = endpoints();
    let redrive = Intrinsics::new(&service, &endpoints).resolve(&queue.properties, "x").unwrap().unwrap();
    assert_eq!(
        redrive["RedrivePolicy"],
        json!({"deadLetterTargetArn": "arn:aws:sqs:eu-north-1:000000000000:fault-tolerant-app-backend-tasks-dlq-dev", "maxReceiveCount": 3})
    );
}

#[test]
fn http_api_shorthands_and_catch_all_routes() {
    let text = format!("{BASE}  httpApi:\n    cors: true\nfunctions:\n  api:\n    handler: bootstrap\n    events:\n      - httpApi: '*'\n      - httpApi: 'GET /users/{{id}}'\n      - httpApi:\n          method: post\n          path: /users\n");
    let service = load(&text).unwrap();
    let routes: Vec<(String, String)> = service.functions["api"]
        .events
        .iter()
        .map(|e| match e {
            Event::HttpApi(h) => (h.method.clone(), h.path.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        routes,
        [("*".into(), "*".into()), ("GET".into(), "/users/{id}".into()), ("POST".into(), "/users".into())]
    );
    let cors = config::Cors::from_http_api(service.provider.http_api.as_ref().unwrap().cors.as_ref().unwrap(), "x")
        .unwrap()
        .unwrap();
    assert_eq!(cors.origins, ["*"]);
}

#[test]
fn unsupported_events_are_kept_not_dropped() {
    let text =
        format!("{BASE}functions:\n  balancer:\n    handler: bootstrap\n    events:\n      - alb: {{priority: 1}}\n");
    let service = load(&text).unwrap();
    assert!(matches!(&service.functions["balancer"].events[0], Event::Unsupported { kind, .. } if kind == "alb"));
}

#[test]
fn sns_events_take_serverless_forms_and_mistakes_are_located() {
    let text = format!(
        "{BASE}functions:\n  f:\n    handler: bootstrap\n    events:\n      - sns: alerts\n      - sns: arn:aws:sns:eu-north-1:000000000000:orders\n      - sns:\n          arn: {{Ref: Topic}}\n          topicName: t\n          filterPolicy: {{kind: [a]}}\n          filterPolicyScope: MessageBody\n"
    );
    let service = load(&text).unwrap();
    let events: Vec<&config::SnsEvent> = service.functions["f"]
        .events
        .iter()
        .map(|e| match e {
            Event::Sns(sns) => sns,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(events[0].topic_name.as_deref(), Some("alerts"));
    assert!(events[0].arn.is_none());
    assert_eq!(events[1].topic_name.as_deref(), Some("orders"), "the name after the ARN's last colon");
    assert_eq!(events[2].topic_name.as_deref(), Some("t"));
    assert_eq!(events[2].filter_policy_scope.as_deref(), Some("MessageBody"));
    let without_name = format!(
        "{BASE}functions:\n  f:\n    handler: bootstrap\n    events:\n      - sns:\n          arn: {{Ref: Topic}}\n"
    );
    let error = load(&without_name).unwrap_err().to_string();
    assert!(error.contains("serverless.yml:9:") && error.contains("topicName is required"), "{error}");
    let bad_scope = format!(
        "{BASE}functions:\n  f:\n    handler: bootstrap\n    events:\n      - sns:\n          topicName: t\n          filterPolicyScope: Body\n"
    );
    let error = load(&bad_scope).unwrap_err().to_string();
    assert!(error.contains("expected MessageAttributes or MessageBody, found `Body`"), "{error}");
}

#[test]
fn s3_events_take_serverless_forms_and_mistakes_are_located() {
    let text = format!(
        "{BASE}functions:\n  f:\n    handler: bootstrap\n    events:\n      - s3: photos\n      - s3:\n          bucket: docs\n          event: s3:ObjectRemoved:*\n          rules:\n            - prefix: in/\n            - suffix: .pdf\n          existing: true\n"
    );
    let service = load(&text).unwrap();
    let events: Vec<&config::S3Event> = service.functions["f"]
        .events
        .iter()
        .map(|e| match e {
            Event::S3(s3) => s3,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!((events[0].bucket.as_str(), events[0].event.as_str()), ("photos", "s3:ObjectCreated:*"));
    assert_eq!((events[1].prefix.as_deref(), events[1].suffix.as_deref()), (Some("in/"), Some(".pdf")));
    assert!(events[1].existing);
    let two_prefixes = format!(
        "{BASE}functions:\n  f:\n    handler: bootstrap\n    events:\n      - s3:\n          bucket: docs\n          rules:\n            - prefix: a/\n            - prefix: b/\n"
    );
    let error = load(&two_prefixes).unwrap_err().to_string();
    assert!(error.contains("serverless.yml:12:") && error.contains("at most one prefix rule"), "{error}");
}

#[test]
fn schedule_events_are_typed_and_checked_with_their_location() {
    let text = format!(
        "{BASE}functions:\n  sweep:\n    handler: bootstrap\n    events:\n      - schedule: rate(1 minute)\n      - schedule:\n          rate: [cron(0 12 * * ? *), rate(2 hours)]\n          enabled: false\n          input: {{\"sweep\": true}}\n"
    );
    let service = load(&text).unwrap();
    let rules = ftb_offline::schedule::rules(&service).unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 3);
    assert!(
        names[0].ends_with("-SweepEventsRuleSchedule1") && names[2].ends_with("-SweepEventsRuleSchedule3"),
        "{names:?}"
    );
    assert!(!rules[1].enabled);
    let bad =
        format!("{BASE}functions:\n  sweep:\n    handler: bootstrap\n    events:\n      - schedule: rate(1 minutes)\n");
    let service = load(&bad).unwrap();
    let error = service.locate(ftb_offline::schedule::rules(&service).unwrap_err()).to_string();
    assert!(error.contains(":6:") || error.contains("functions.sweep.events.0.schedule"), "{error}");
    assert!(error.contains("expected minute, hour or day after 1"), "{error}");
}

#[test]
fn anchors_merge_keys_and_resources_lists() {
    let text = r#"
service: merged
provider: { name: aws }
custom:
  defaults: &defaults
    timeout: 3
    memorySize: 256
functions:
  a:
    <<: *defaults
    handler: bootstrap
    timeout: 9
resources:
  - Resources:
      One: { Type: AWS::SQS::Queue, Properties: { QueueName: one } }
  - Resources:
      Two: { Type: AWS::SQS::Queue }
    Outputs:
      OneUrl: { Value: !Ref One }
"#;
    let service = load(text).unwrap();
    assert_eq!((service.functions["a"].timeout_seconds, service.functions["a"].memory_size_mb), (9.0, 256));
    assert_eq!(service.resources.resources.keys().collect::<Vec<_>>(), ["One", "Two"]);
    assert!(service.resources.outputs.contains_key("OneUrl"));
}

#[test]
fn function_names_and_lookup_by_arn() {
    let text =
        format!("{BASE}functions:\n  a: {{ handler: bootstrap }}\n  b: {{ handler: bootstrap, name: custom-b }}\n");
    let service = load(&text).unwrap();
    assert_eq!(service.function("demo-dev-a").unwrap().key, "a");
    assert_eq!(service.function("custom-b").unwrap().key, "b");
    assert_eq!(service.function("arn:aws:lambda:us-east-1:000000000000:function:demo-dev-a:$LATEST").unwrap().key, "a");
    let _: Value = serde_json::to_value(&service.functions["a"]).unwrap();
}
