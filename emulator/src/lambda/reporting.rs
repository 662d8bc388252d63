//! What an ended invocation tells others: the journal's entry (for the web console) and the telemetry of its
//! environment (`platform.runtimeDone`, `platform.report`). The pool calls these as each invocation ends.

use super::logs::Report;
use super::telemetry::Platform;
use super::worker::Worker;
use super::{FunctionResult, InvokeRequest};
use crate::aws::lambda as limits;
use crate::journal::{clip, Invocation, Journal, What};

/// Writes the finished invocation of `function` into the journal (when a console records one).
pub(super) fn record_invocation(
    journal: &Journal,
    function: &str,
    (request_id, started_ms): (&str, u64),
    request: &InvokeRequest,
    result: &FunctionResult,
    report: Report,
    log: &str,
) {
    if !journal.is_enabled() {
        return;
    }
    let (status, error_type, error_message, response) = match result {
        FunctionResult::Success(body) => ("success", None, None, String::from_utf8_lossy(body).into_owned()),
        FunctionResult::Streamed(streamed) => ("success", None, None, streamed.describe()),
        FunctionResult::Streaming(_) => ("success", None, None, "(a response stream)".to_string()),
        FunctionResult::Error { error_type, payload } => {
            let document: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
            let message = document["errorMessage"].as_str().map(String::from);
            ("error", Some(error_type.clone()), message, String::from_utf8_lossy(payload).into_owned())
        }
    };
    let invocation = Invocation {
        function: function.to_string(),
        request_id: request_id.to_string(),
        trigger: request.trigger.clone(),
        started_ms,
        status,
        batch_item_failures: batch_item_failures(&request.trigger, result),
        error_type,
        error_message,
        duration_ms: report.duration.as_secs_f64() * 1000.0,
        billed_duration_ms: report.billed_ms(),
        memory_size_mb: report.memory_size_mb,
        max_memory_used_mb: report.max_memory_used_mb,
        init_duration_ms: report.init_duration.map(|d| d.as_secs_f64() * 1000.0),
        payload: clip(&String::from_utf8_lossy(&request.payload)),
        response: clip(&response),
        log: clip(log),
    };
    journal.record(|| What::Invocation(Box::new(invocation)));
}

/// How many items of a queue or stream batch the function reported failed, when it named any.
fn batch_item_failures(trigger: &crate::journal::Trigger, result: &FunctionResult) -> Option<usize> {
    use crate::journal::Trigger;
    let (Trigger::Queue { .. } | Trigger::Stream { .. }, FunctionResult::Success(body)) = (trigger, result) else {
        return None;
    };
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    answer["batchItemFailures"].as_array().map(Vec::len).filter(|failed| *failed > 0)
}

/// `platform.runtimeDone` and `platform.report` for the process's telemetry subscribers (Telemetry API events
/// schema: status `success`, `error`, `timeout` or `failure`).
pub(super) fn report_telemetry(worker: &Worker, request_id: &str, result: &FunctionResult, report: Report) {
    if !worker.link.telemetry.is_active() {
        return;
    }
    let status = match result {
        FunctionResult::Error { error_type, .. } if error_type == limits::ERROR_TIMEOUT => "timeout",
        FunctionResult::Error { error_type, .. } if error_type.starts_with("Runtime.") => "failure",
        FunctionResult::Error { .. } => "error",
        _ => "success",
    };
    let duration_ms = report.duration.as_secs_f64() * 1000.0;
    let done =
        serde_json::json!({ "requestId": request_id, "status": status, "metrics": { "durationMs": duration_ms } });
    worker.link.telemetry.platform(Platform::RuntimeDone, done);
    let mut metrics = serde_json::json!({
        "durationMs": duration_ms,
        "billedDurationMs": report.billed_ms(),
        "memorySizeMB": report.memory_size_mb,
        "maxMemoryUsedMB": report.max_memory_used_mb,
    });
    if let Some(init) = report.init_duration {
        metrics["initDurationMs"] = serde_json::json!(init.as_secs_f64() * 1000.0);
    }
    let record = serde_json::json!({ "requestId": request_id, "status": status, "metrics": metrics });
    worker.link.telemetry.platform(Platform::Report, record);
}
