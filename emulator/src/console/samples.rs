//! The console's "Sample event" for a function: the event its first trigger would send, so a function that
//! deserializes a specific event can be invoked from the page. HTTP routes use the gateway's own builders
//! ([`crate::apigw::samples`]), schedules their rule's payload, queues one SQS record; other triggers `{}`.

use super::Console;
use crate::config::intrinsics::Intrinsics;
use crate::config::Event;
use serde_json::{json, Value};

pub fn sample_event(console: &Console, function: &str) -> Value {
    let service = console.service.load_full();
    let Some(definition) = service.functions.get(function) else { return json!({}) };
    for (i, event) in definition.events.iter().enumerate() {
        let sample = match event {
            Event::Http(_) | Event::HttpApi(_) => {
                let host = format!("{}:{}", console.endpoints.host, console.endpoints.http_port);
                crate::apigw::samples::http_event(&console.http.routes(), function, &host)
            }
            Event::Schedule(_) => crate::schedule::rules(&service)
                .ok()
                .and_then(|rules| rules.into_iter().find(|rule| rule.function == function))
                .and_then(|rule| serde_json::from_slice(&rule.payload(chrono::Utc::now())).ok()),
            Event::Sqs(sqs) => {
                let intrinsics = Intrinsics::new(&service, &console.endpoints);
                let arn = crate::sqs::resources::queue_arn_of(&intrinsics, function, i, sqs).ok();
                arn.map(|arn| crate::sqs::mapping::sample_event(&arn, &service.region))
            }
            _ => None,
        };
        if let Some(sample) = sample {
            return sample;
        }
    }
    json!({})
}
