//! SQS through an event source mapping: SendMessage → handler start latency (messages sent one at a time to an
//! idle queue), and messages/s for a burst sent with SendMessageBatch by 10 concurrent senders. The same
//! measurement serves ftb-offline's mapping and serverless-offline-sqs's: each consumer appends `sent,started`
//! lines to a file. A mapping that cannot start or does not deliver is shown as such, with the reason.

use crate::{figures, tools};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BURST_MESSAGES: usize = 10_000;

/// How many single messages to time, after how many untimed ones.
struct Sampling {
    warm_up: usize,
    samples: usize,
}

struct QueueFigures {
    p50: Duration,
    p99: Duration,
    messages_per_second: f64,
}

impl std::fmt::Display for QueueFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SendMessage → handler start p50 {} µs p99 {} µs; {:.0} messages/s",
            self.p50.as_micros(),
            self.p99.as_micros(),
            self.messages_per_second
        )
    }
}

/// ftb-offline's mapping of the queue `bench` (on the emulator at `endpoint`, whose consumer writes to `ftb_out`),
/// then serverless-offline-sqs's mapping of the queue `bench-peer` on the same SQS API, and the table of both.
/// serverless-offline-sqs reads until a batch is full, each read waiting up to 5 s, so a single message takes
/// about 5 s: it gets 5 timed messages where ftb-offline gets 200.
pub async fn table(root: &Path, endpoint: &str, ftb_out: &Path) -> String {
    let ours = measure(endpoint, "bench", ftb_out, Sampling { warm_up: 20, samples: 200 }).await;
    report("ftb-offline", &ours);
    let peer_dir = root.join("bench/peers/serverless-offline");
    let peer_out = std::env::temp_dir().join(format!("ftb-bench-sqs-peer-{}.csv", std::process::id()));
    std::fs::write(&peer_out, "").expect("create the peer's output file");
    let env = [
        ("BENCH_SQS_ENDPOINT", endpoint.to_string()),
        ("BENCH_SQS_ENABLED", "true".to_string()),
        ("BENCH_OUT", peer_out.display().to_string()),
    ];
    let theirs = match tools::start_serverless_offline(&peer_dir, &env).await {
        // `_served` keeps serverless-offline running until the measure is done.
        Ok(_served) => measure(endpoint, "bench-peer", &peer_out, Sampling { warm_up: 1, samples: 5 }).await,
        Err(reason) => Err(format!("could not start: {reason}")),
    };
    report("serverless-offline-sqs", &theirs);
    let _ = std::fs::remove_file(&peer_out);
    render(&ours, &theirs)
}

fn report(name: &str, figures: &Result<QueueFigures, String>) {
    match figures {
        Ok(figures) => println!("SQS, {name}: {figures}"),
        Err(reason) => println!("SQS, {name}: {reason}"),
    }
}

fn render(ours: &Result<QueueFigures, String>, theirs: &Result<QueueFigures, String>) -> String {
    let latency = |f: &QueueFigures| format!("{} / {}", readable(f.p50), readable(f.p99));
    let rate = |f: &QueueFigures| figures::number(f.messages_per_second);
    let (latency_ratio, rate_ratio) = match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => (
            format!(" ({:.0}× at p50)", figures::lead(ours.p50.as_secs_f64(), theirs.p50.as_secs_f64(), true)),
            format!(" ({:.1}×)", figures::lead(ours.messages_per_second, theirs.messages_per_second, false)),
        ),
        _ => (String::new(), String::new()),
    };
    // The reason of a mapping without figures in the first row, "–" in the second.
    let cell =
        |figures: &Result<QueueFigures, String>, value: &dyn Fn(&QueueFigures) -> String, first: bool| match figures {
            Ok(figures) => value(figures),
            Err(reason) if first => reason.clone(),
            Err(_) => "–".into(),
        };
    format!(
        "| figure | ftb-offline | serverless-offline 13 with serverless-offline-sqs 8 | cargo lambda watch |\n\
         |---|---|---|---|\n\
         | SendMessage → handler start, p50 / p99 (ftb-offline: 200 messages; serverless-offline: 5) | **{}** | {}{latency_ratio} | no SQS |\n\
         | messages/s through the mapping (10,000, batches of 10) | **{}** | {}{rate_ratio} | no SQS |\n",
        cell(ours, &latency, true),
        cell(theirs, &latency, true),
        cell(ours, &rate, false),
        cell(theirs, &rate, false),
    )
}

/// Microseconds below 10 ms, milliseconds above.
fn readable(d: Duration) -> String {
    match d.as_secs_f64() * 1e6 {
        micros if micros < 10_000.0 => format!("{} µs", figures::number(micros)),
        micros => format!("{} ms", figures::number(micros / 1000.0)),
    }
}

/// Measures the mapping of the queue `queue` on the SQS API at `endpoint`, whose consumer writes to `out`; the
/// reason if the mapping does not deliver.
async fn measure(endpoint: &str, queue: &str, out: &Path, sampling: Sampling) -> Result<QueueFigures, String> {
    let sqs = client(endpoint);
    let url = format!("{endpoint}/000000000000/{queue}");
    let mut latencies = Vec::with_capacity(sampling.samples);
    for i in 0..sampling.warm_up + sampling.samples {
        sqs.send_message().queue_url(&url).message_body(now_us().to_string()).send().await.expect("SendMessage");
        let line = wait_for_lines(out, i + 1).await?;
        let (sent, started) = line.split_once(',').ok_or_else(|| format!("the consumer wrote {line:?}"))?;
        if i >= sampling.warm_up {
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
    wait_for_lines(out, before + BURST_MESSAGES).await?;
    let elapsed = started.elapsed();
    Ok(QueueFigures {
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        messages_per_second: BURST_MESSAGES as f64 / elapsed.as_secs_f64(),
    })
}

fn client(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "ftb-bench"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Waits (bounded) until `path` has `count` lines; returns the last one.
pub(crate) async fn wait_for_lines(path: &Path, count: usize) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= count {
            return Ok(text.lines().nth(count - 1).unwrap_or_default().to_string());
        }
        if Instant::now() > deadline {
            return Err(format!("the mapping did not deliver {count} messages within 120 s"));
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap_or_default().lines().count()
}

pub(crate) fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()
}
