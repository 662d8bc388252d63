//! What the console reads (`GET /api/...`), each through its service's own API: the app at a glance (functions
//! with their processes, routes, connections, queues with their counts and mappings, topics, tables), the
//! journal (recent invocations, a task's story), a queue's messages without receiving them, a table's items.

use super::{error, query_param, Console};
use crate::config::intrinsics::Intrinsics;
use crate::config::Event;
use crate::journal::{Entry, What};
use crate::server::{json, Body};
use crate::sqs::queue::Queue;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// Entries a journal view returns unless told fewer.
const DEFAULT_LIMIT: usize = 100;
/// Messages shown of a queue at most.
const MAX_PEEKED: usize = 100;
/// Items of a table page at most.
const MAX_ITEMS: usize = 100;
/// Scan pages read to count a table's items at most.
const MAX_COUNTED_PAGES: usize = 20;

pub async fn answer(console: &Console, path: &[&str], query: &str) -> Response<Body> {
    let limit = query_param(query, "limit").and_then(|l| l.parse().ok()).unwrap_or(DEFAULT_LIMIT);
    match path {
        ["overview"] => json(StatusCode::OK, &overview(console)),
        ["journal"] => entries(console.lambda.journal().recent(limit, |_| true)),
        // Summaries, as the live feed sends them: a row's event, response and log come with `entries/<seq>`.
        ["invocations"] => {
            let function = query_param(query, "function");
            let found = console.lambda.journal().recent(limit, |entry| match &entry.what {
                What::Invocation(i) => function.as_deref().is_none_or(|f| i.function == f),
                _ => false,
            });
            json(StatusCode::OK, &json!({ "entries": found.iter().map(|e| summary(e)).collect::<Vec<_>>() }))
        }
        ["entries", seq] => match seq.parse().ok().and_then(|seq| console.lambda.journal().entry(seq)) {
            Some(entry) => json(StatusCode::OK, &json!({ "entry": entry.as_ref() })),
            None => {
                error(StatusCode::NOT_FOUND, "NotFound", &format!("no journal entry {seq} (it may have been dropped)"))
            }
        },
        ["functions", function, "sample"] => json(StatusCode::OK, &super::samples::sample_event(console, function)),
        ["story"] => {
            // A story reads the whole journal: off the async workers.
            let (journal, id) = (console.lambda.journal().clone(), query_param(query, "id").unwrap_or_default());
            match tokio::task::spawn_blocking(move || journal.story(&id)).await {
                Ok(story) => entries(story),
                Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the story could not be read"),
            }
        }
        ["queues", name, "messages"] => match console.sqs.app_queue(name) {
            Ok(queue) => json(StatusCode::OK, &json!({ "messages": queue.peek(limit.min(MAX_PEEKED)) })),
            Err(e) => error(StatusCode::NOT_FOUND, "QueueDoesNotExist", &e.message),
        },
        ["queues", name, "moves"] => match console.sqs.app_queue(name) {
            Ok(queue) => json(StatusCode::OK, &json!({ "tasks": move_tasks(console, &queue) })),
            Err(e) => error(StatusCode::NOT_FOUND, "QueueDoesNotExist", &e.message),
        },
        ["tables"] => tables(console).await,
        ["tables", table, "items"] => items(console, table, query).await,
        _ => error(StatusCode::NOT_FOUND, "NotFound", &format!("no view /api/{}", path.join("/"))),
    }
}

/// An entry without the long texts of an invocation (its payload, response and log), which are not even
/// serialised.
pub fn summary(entry: &Entry) -> Value {
    let What::Invocation(invocation) = &entry.what else {
        return serde_json::to_value(entry).expect("entries serialise");
    };
    json!({
        "seq": entry.seq,
        "atMs": entry.at_ms,
        "kind": "invocation",
        "function": invocation.function,
        "requestId": invocation.request_id,
        "trigger": invocation.trigger,
        "startedMs": invocation.started_ms,
        "status": invocation.status,
        "batchItemFailures": invocation.batch_item_failures,
        "errorType": invocation.error_type,
        "errorMessage": invocation.error_message,
        "durationMs": invocation.duration_ms,
        "billedDurationMs": invocation.billed_duration_ms,
        "memorySizeMb": invocation.memory_size_mb,
        "maxMemoryUsedMb": invocation.max_memory_used_mb,
        "initDurationMs": invocation.init_duration_ms,
    })
}

fn entries(entries: Vec<Arc<Entry>>) -> Response<Body> {
    let entries: Vec<&Entry> = entries.iter().map(Arc::as_ref).collect();
    json(StatusCode::OK, &json!({ "entries": entries }))
}

/// The app at a glance.
pub fn overview(console: &Console) -> Value {
    let service = console.service.load_full();
    let endpoints = &console.endpoints;
    let routes = crate::plan::route_table(&console.http.routes(), &console.websocket.route_keys(), endpoints);
    let mut described = endpoints.described();
    described["dynamodb"] = json!(console.dynamodb.endpoint());
    json!({
        "service": service.service,
        "stage": service.stage,
        "region": service.region,
        "endpoints": described,
        "functions": functions(console),
        "routes": routes,
        "connections": connections(console),
        "queues": queues(console),
        "topics": topics(console),
    })
}

fn functions(console: &Console) -> Vec<Value> {
    let service = console.service.load_full();
    console
        .lambda
        .functions()
        .iter()
        .map(|spec| {
            let pool = console.lambda.find(&spec.key);
            let triggers: Vec<&str> =
                service.functions.get(&spec.key).map(|f| f.events.iter().map(event_kind).collect()).unwrap_or_default();
            json!({
                "key": spec.key,
                "name": spec.name,
                "runtime": spec.runtime,
                "handler": spec.handler,
                "timeoutSeconds": spec.timeout.map(|t| t.as_secs_f64()),
                "memoryMb": spec.memory_mb,
                "maxConcurrency": spec.max_concurrency,
                "warm": pool.as_ref().map_or(0, |p| p.idle_workers()),
                "busy": pool.as_ref().map_or(0, |p| p.busy_processes()),
                "triggers": triggers,
                "unavailable": spec.unavailable,
            })
        })
        .collect()
}

fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::Http(_) => "http",
        Event::HttpApi(_) => "httpApi",
        Event::Websocket(_) => "websocket",
        Event::Sqs(_) => "sqs",
        Event::Schedule(_) => "schedule",
        Event::Stream(_) => "stream",
        Event::Sns(_) => "sns",
        Event::S3(_) => "s3",
        Event::Unsupported { .. } => "unsupported",
    }
}

fn connections(console: &Console) -> Vec<Value> {
    let now = chrono::Utc::now();
    console
        .websocket
        .connections()
        .all()
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "connectedAt": c.connected_at.to_rfc3339(),
                "ageSeconds": (now - c.connected_at).num_seconds(),
                "lastActive": c.last_active().to_rfc3339(),
                "sourceIp": c.source_ip,
                "userAgent": c.user_agent,
                "authorizer": c.authorizer(),
            })
        })
        .collect()
}

/// Every queue of the app's account and region with its counts, attributes, dead-letter sources and the
/// event source mappings that read it.
fn queues(console: &Console) -> Vec<Value> {
    let mappings = mappings(console);
    console
        .sqs
        .list_queues(console.sqs.home(), None)
        .iter()
        .map(|queue| {
            let (visible, in_flight, delayed) = queue.counts();
            let sources: Vec<String> = console.sqs.dead_letter_sources(queue).iter().map(|q| q.name.clone()).collect();
            let read_by: Vec<&Value> = mappings.iter().filter(|m| m["queueArn"] == queue.arn.as_str()).collect();
            json!({
                "name": queue.name,
                "url": queue.url,
                "arn": queue.arn,
                "visible": visible,
                "inFlight": in_flight,
                "delayed": delayed,
                "attributes": queue.attributes(),
                "deadLetterSources": sources,
                "mappings": read_by,
            })
        })
        .collect()
}

/// The `sqs` events of `serverless.yml`, with their queue ARNs resolved.
fn mappings(console: &Console) -> Vec<Value> {
    let service = console.service.load_full();
    let intrinsics = Intrinsics::new(&service, &console.endpoints);
    let mut mappings = Vec::new();
    for function in service.functions.values() {
        for (i, event) in function.events.iter().enumerate() {
            let Event::Sqs(sqs) = event else { continue };
            let Ok(arn) = crate::sqs::resources::queue_arn_of(&intrinsics, &function.key, i, sqs) else { continue };
            mappings.push(json!({
                "function": function.key,
                "queueArn": arn,
                "batchSize": sqs.batch_size,
                "enabled": sqs.enabled && !console.pauses.is_paused(&function.key, &arn),
                // `enabled: false` in serverless.yml: no mapping runs, and the console cannot switch it on.
                "configuredOff": !sqs.enabled,
                "reportBatchItemFailures": sqs.report_batch_item_failures,
            }));
        }
    }
    mappings
}

fn move_tasks(console: &Console, queue: &Queue) -> Vec<Value> {
    let tasks = console.sqs.list_move_tasks(&queue.arn, Some(10)).unwrap_or_default();
    tasks
        .iter()
        .map(|task| {
            json!({
                "handle": task.handle,
                "status": task.status.name(),
                "moved": task.moved,
                "toMove": task.to_move,
                "destinationArn": task.destination_arn,
                "failureReason": task.failure_reason,
                "startedMs": task.started_ms,
            })
        })
        .collect()
}

fn topics(console: &Console) -> Vec<Value> {
    let home = console.sns.home().clone();
    let mut arns = Vec::new();
    let mut token = None;
    while let Ok(page) = console.sns.list_topics(&home, token.as_deref()) {
        arns.extend(page.items);
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    arns.iter()
        .map(|arn| {
            let subscriptions: Vec<Value> = console
                .sns
                .list_subscriptions(&home, Some(arn), None)
                .map(|page| page.items)
                .unwrap_or_default()
                .iter()
                .map(|s| json!({ "protocol": s.protocol.name(), "endpoint": s.endpoint, "raw": s.raw }))
                .collect();
            json!({ "arn": arn, "name": arn.rsplit(':').next(), "subscriptions": subscriptions })
        })
        .collect()
}

/// The database's tables with their key schema and item count (counted by a scan, which DescribeTable's
/// ItemCount is not: DynamoDB updates that figure only every six hours).
async fn tables(console: &Console) -> Response<Body> {
    let api = &console.dynamodb;
    let listed = match api.call("DynamoDB_20120810.ListTables", json!({})).await {
        Ok(listed) => listed,
        Err(e) => return error(StatusCode::BAD_GATEWAY, "DynamoDBUnavailable", &e.message),
    };
    let mut tables = Vec::new();
    for name in listed["TableNames"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let described = api.call("DynamoDB_20120810.DescribeTable", json!({ "TableName": name })).await;
        let table = described.map(|d| d["Table"].clone()).unwrap_or_default();
        let count = count_items(api, name).await;
        tables.push(json!({
            "name": name,
            "keySchema": table["KeySchema"],
            "attributeDefinitions": table["AttributeDefinitions"],
            "streamArn": table["LatestStreamArn"],
            "itemCount": count,
        }));
    }
    json(StatusCode::OK, &json!({ "tables": tables }))
}

/// The items of `table`, counted by scanning it page by page (up to [`MAX_COUNTED_PAGES`] pages of 1 MB; a
/// bigger table's count is a lower bound); `None` if the scan fails.
async fn count_items(api: &crate::dynamodb::json_api::JsonApi, table: &str) -> Option<u64> {
    let mut request = json!({ "TableName": table, "Select": "COUNT" });
    let mut count = 0;
    for _ in 0..MAX_COUNTED_PAGES {
        let page = api.call("DynamoDB_20120810.Scan", request.clone()).await.ok()?;
        count += page["Count"].as_u64().unwrap_or(0);
        match page.get("LastEvaluatedKey") {
            Some(last) if !last.is_null() => request["ExclusiveStartKey"] = last.clone(),
            _ => break,
        }
    }
    Some(count)
}

/// A page of a table's items: a Scan, or with `key` a Query of that partition key value. `start` is the page's
/// ExclusiveStartKey (the previous page's LastEvaluatedKey, as JSON).
async fn items(console: &Console, table: &str, query: &str) -> Response<Body> {
    let limit = query_param(query, "limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, MAX_ITEMS);
    let mut request = json!({ "TableName": table, "Limit": limit });
    if let Some(start) = query_param(query, "start").filter(|s| !s.is_empty()) {
        match serde_json::from_str::<Value>(&start) {
            Ok(start) => request["ExclusiveStartKey"] = start,
            Err(e) => return error(StatusCode::BAD_REQUEST, "ValidationException", &format!("start: {e}")),
        }
    }
    let target = match query_param(query, "key").filter(|k| !k.is_empty()) {
        Some(key) => {
            let described =
                console.dynamodb.call("DynamoDB_20120810.DescribeTable", json!({ "TableName": table })).await;
            let table_description = match described {
                Ok(d) => d["Table"].clone(),
                Err(e) => return error(StatusCode::BAD_REQUEST, "ResourceNotFoundException", &e.message),
            };
            let Some((name, kind)) = partition_key(&table_description) else {
                return error(StatusCode::BAD_REQUEST, "ValidationException", "the table has no partition key");
            };
            request["KeyConditionExpression"] = json!("#k = :v");
            request["ExpressionAttributeNames"] = json!({ "#k": name });
            request["ExpressionAttributeValues"] = json!({ ":v": { kind: key } });
            "DynamoDB_20120810.Query"
        }
        None => "DynamoDB_20120810.Scan",
    };
    match console.dynamodb.call(target, request).await {
        Ok(answer) => {
            json(StatusCode::OK, &json!({ "items": answer["Items"], "lastEvaluatedKey": answer["LastEvaluatedKey"] }))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "DynamoDBError", &e.message),
    }
}

/// The partition key's name and type (`S`, `N` or `B`) from DescribeTable's answer.
fn partition_key(table: &Value) -> Option<(String, String)> {
    let schema = table["KeySchema"].as_array()?;
    let name = schema.iter().find(|k| k["KeyType"] == "HASH")?["AttributeName"].as_str()?.to_string();
    let definitions = table["AttributeDefinitions"].as_array()?;
    let kind = definitions.iter().find(|d| d["AttributeName"] == name.as_str())?["AttributeType"].as_str()?;
    Some((name, kind.to_string()))
}
