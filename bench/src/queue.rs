//! SQS through an event source mapping: SendMessage → handler start latency (messages sent one at a time to an
//! idle queue), and messages/s for a burst sent with SendMessageBatch by 10 concurrent senders.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LATENCY_SAMPLES: usize = 200;
const BURST_MESSAGES: usize = 10_000;

pub struct QueueFigures {
    pub p50: Duration,
    pub p99: Duration,
    pub messages_per_second: f64,
}

pub async fn measure(emulator: &ftb_offline::Emulator, out: &Path) -> QueueFigures {
    let sqs = client(emulator);
    let url = format!("{}/000000000000/bench", emulator.endpoints().lambda_url());
    let mut latencies = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES + 20 {
        sqs.send_message().queue_url(&url).message_body(now_us().to_string()).send().await.expect("SendMessage");
        let line = wait_for_lines(out, i + 1).await;
        let (sent, started) = line.split_once(',').expect("sent,started");
        if i >= 20 {
            latencies
                .push(Duration::from_micros(started.parse::<u64>().unwrap().saturating_sub(sent.parse().unwrap())));
        }
    }
    latencies.sort();
    let before = line_count(out);
    let started = Instant::now();
    let senders: Vec<_> = (0..10)
        .map(|_| {
            let (sqs, url) = (sqs.clone(), url.clone());
            tokio::spawn(async move {
                for _ in 0..BURST_MESSAGES / 100 {
                    let batch = (0..10).fold(sqs.send_message_batch().queue_url(&url), |b, i| {
                        b.entries(
                            SendMessageBatchRequestEntry::builder()
                                .id(i.to_string())
                                .message_body(now_us().to_string())
                                .build()
                                .unwrap(),
                        )
                    });
                    batch.send().await.expect("SendMessageBatch");
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    wait_for_lines(out, before + BURST_MESSAGES).await;
    let elapsed = started.elapsed();
    QueueFigures {
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        messages_per_second: BURST_MESSAGES as f64 / elapsed.as_secs_f64(),
    }
}

fn client(emulator: &ftb_offline::Emulator) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "ftb-bench"))
        .endpoint_url(emulator.endpoints().lambda_url())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Waits (bounded) until `path` has `count` lines; returns the last one.
async fn wait_for_lines(path: &Path, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= count {
            return text.lines().nth(count - 1).unwrap_or_default().to_string();
        }
        assert!(Instant::now() < deadline, "the mapping did not deliver {count} messages within 120 s");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap_or_default().lines().count()
}

fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()
}
