//! CloudWatch-style invocation logs: `START RequestId`, the handler's own lines, `END`, `REPORT` with durations
//! and memory. Each line goes to `tracing` and into the invocation's log text, whose tail `LogType: Tail` returns.

use crate::aws::lambda::{BILLING_GRANULARITY_MS, LOG_TAIL_BYTES, VERSION_LATEST};
use base64::Engine;
use std::time::Duration;

pub struct InvocationLog {
    function: String,
    request_id: String,
    text: String,
}

/// Figures for the REPORT line.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub duration: Duration,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: Option<u64>,
    pub init_duration: Option<Duration>,
}

impl Report {
    /// The duration rounded up to Lambda's billing granularity (at least one unit).
    pub fn billed_ms(&self) -> u64 {
        let ms = self.duration.as_secs_f64() * 1000.0;
        ((ms / BILLING_GRANULARITY_MS).ceil().max(1.0) * BILLING_GRANULARITY_MS) as u64
    }
}

impl InvocationLog {
    pub fn start(function: &str, request_id: &str) -> Self {
        let mut log = Self { function: function.to_string(), request_id: request_id.to_string(), text: String::new() };
        log.line(format!("START RequestId: {request_id} Version: {VERSION_LATEST}"));
        log
    }

    /// Continues a log whose START was written elsewhere.
    pub fn resume(function: &str, request_id: &str) -> Self {
        Self { function: function.to_string(), request_id: request_id.to_string(), text: String::new() }
    }

    /// A platform line of the init phase before this invocation's START (`INIT_START`), where Lambda's log has it.
    pub fn before_start(&mut self, line: String) {
        tracing::info!(target: "lambda", "{} {line}", self.function);
        self.text.insert_str(0, &format!("{line}\n"));
    }

    /// A line the handler printed.
    pub fn output(&mut self, line: &str) {
        tracing::info!(target: "lambda", "{} {} {line}", self.function, self.request_id);
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Writes END and REPORT; returns the whole log text of the invocation.
    pub fn finish(mut self, report: Report) -> String {
        let id = self.request_id.clone();
        self.line(format!("END RequestId: {id}"));
        let ms = report.duration.as_secs_f64() * 1000.0;
        let mut line = format!(
            "REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            report.billed_ms(),
            report.memory_size_mb,
            report.max_memory_used_mb.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
        );
        if let Some(init) = report.init_duration {
            line.push_str(&format!("\tInit Duration: {:.2} ms", init.as_secs_f64() * 1000.0));
        }
        self.line(line);
        self.text
    }

    /// A line of the platform's own (START, END, REPORT, errors).
    pub fn line(&mut self, line: String) {
        tracing::info!(target: "lambda", "{} {line}", self.function);
        self.text.push_str(&line);
        self.text.push('\n');
    }
}

/// `X-Amz-Log-Result`: the last 4 KB of the log, base64 (cut on a character boundary).
pub fn tail_base64(text: &str) -> String {
    let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    base64::engine::general_purpose::STANDARD.encode(&text[start..])
}
