//! `serverless.yml` → SQS: queues from `AWS::SQS::Queue` resources and event source mappings from `sqs` events,
//! with intrinsics resolved (a RedrivePolicy's `!GetAtt DeadLetterQueue.Arn`, an event's `!GetAtt Queue.Arn`).

use super::mapping::Mapping;
use super::service::Sqs;
use super::settings::Setting;
use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Event, Service, SqsEvent};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Creates the queues `resources` defines, or brings existing ones to their definition (a live edit). Returns
/// their names.
pub fn define_queues(service: &Service, intrinsics: &Intrinsics, sqs: &Sqs) -> Result<BTreeSet<String>, ConfigError> {
    let mut defined = Vec::new();
    for (logical, resource) in service.resources.resources.iter().filter(|(_, r)| r.kind == "AWS::SQS::Queue") {
        let path = format!("resources.Resources.{logical}.Properties");
        let properties = intrinsics.resolve(&resource.properties, &path)?.unwrap_or(Value::Null);
        let name = intrinsics.physical_name(logical)?;
        let queue = sqs
            .define_queue(&name, &queue_attributes(&properties), &crate::config::resource_tags(&properties, &path)?)
            .map_err(|err| ConfigError::at_path(&path, format!("the queue cannot be created: {}", err.message)))?;
        defined.push((queue, path));
    }
    // Dead-letter queues may be defined after the queues that name them: checked once all are there.
    for (queue, path) in &defined {
        sqs.check_dead_letter_queue(queue)
            .map_err(|err| ConfigError::at_path(format!("{path}.RedrivePolicy"), err.message))?;
    }
    Ok(defined.into_iter().map(|(queue, _)| queue.name.clone()).collect())
}

/// The properties of an `AWS::SQS::Queue` that are queue attributes, as CreateQueue takes them: JSON-valued
/// ones (RedrivePolicy, Policy…) become their JSON text. `FifoQueue: false`, which CloudFormation accepts for a
/// standard queue, is the default and left out.
fn queue_attributes(properties: &Value) -> BTreeMap<String, String> {
    let mut attributes = crate::config::properties_as_attributes(properties, Setting::ALL.iter().map(|s| s.name()));
    if attributes.get(Setting::FifoQueue.name()).is_some_and(|v| v == "false") {
        attributes.remove(Setting::FifoQueue.name());
    }
    attributes
}

/// The queue ARN of `functions.<function>.events.<index>`, an `sqs` event, with its intrinsics resolved; an error
/// names that path.
pub fn queue_arn_of(
    intrinsics: &Intrinsics,
    function: &str,
    index: usize,
    event: &SqsEvent,
) -> Result<String, ConfigError> {
    intrinsics.resolve_string(&event.arn, &arn_path(function, index))
}

fn arn_path(function: &str, index: usize) -> String {
    format!("functions.{function}.events.{index}.sqs.arn")
}

/// One mapping per enabled `sqs` event. `concurrency(function)` caps its pollers.
pub fn mappings(
    service: &Service,
    intrinsics: &Intrinsics,
    sqs: &Arc<Sqs>,
    concurrency: impl Fn(&str) -> usize,
) -> Result<Vec<Mapping>, ConfigError> {
    let mut mappings = Vec::new();
    for function in service.functions.values() {
        for (i, event) in function.events.iter().enumerate() {
            let Event::Sqs(sqs_event) = event else { continue };
            if !sqs_event.enabled {
                continue;
            }
            let arn = queue_arn_of(intrinsics, &function.key, i, sqs_event)?;
            let queue = sqs.queue_by_url(sqs.home(), &arn).map_err(|_| {
                ConfigError::at_path(
                    arn_path(&function.key, i),
                    format!("no queue `{arn}`: define it under resources.Resources as an AWS::SQS::Queue"),
                )
            })?;
            let cap = sqs_event.maximum_concurrency.map(|n| n as usize).unwrap_or(usize::MAX);
            mappings.push(Mapping {
                function: function.key.clone(),
                queue,
                batch_size: sqs_event.batch_size.max(1) as usize,
                batching_window: std::time::Duration::from_secs(sqs_event.maximum_batching_window_seconds as u64),
                report_batch_item_failures: sqs_event.report_batch_item_failures,
                pollers: concurrency(&function.key).min(cap).min(5),
                region: service.region.clone(),
            });
        }
    }
    Ok(mappings)
}
