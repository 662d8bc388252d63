//! SNS and S3 notifications, on `ftb-offline start` with `bench/notifications.yml` (the function
//! `bench-notified`): SNS Publish → handler start and S3 PutObject → handler start, one message at a time, each
//! waiting for the handler; and SNS fan-out throughput: messages published back to back by 8 clients to a topic
//! with two queue subscriptions, until both queues hold every copy. No peer is measured beside it: LocalStack needs
//! its image and a token, neither of which this machine can fetch (docs/BENCHMARKS.md says so).

use crate::cli;
use crate::queue::{now_us, wait_for_lines};
use std::path::Path;
use std::time::{Duration, Instant};

const WARM_UP: usize = 10;
const SAMPLES: usize = 200;
const FAN_OUT_MESSAGES: usize = 4000;
const PUBLISHERS: usize = 8;

pub async fn table(root: &Path) -> String {
    cli::cargo_build_release(root, &["--workspace", "--bin", "ftb-offline", "--bin", "bench-notified"]);
    let binary = cli::release_path(root, "ftb-offline");
    let out = std::env::temp_dir().join(format!("ftb-bench-notified-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let measured = measure(&binary, &root.join("bench"), &out).await;
    let _ = std::fs::remove_file(&out);
    let header = "| figure | ftb-offline |\n|---|---|\n";
    match measured {
        Ok(figures) => {
            let [sns, s3] = [figures.sns, figures.s3].map(|(p50, p99)| format!("{} ms / {} ms", ms(p50), ms(p99)));
            println!(
                "notifications: SNS → handler {sns}, S3 → handler {s3}, fan-out {:.0} messages/s",
                figures.fan_out
            );
            format!(
                "{header}| SNS Publish → handler start, p50 / p99 ({SAMPLES} messages, one at a time) | {sns} |\n\
                 | S3 PutObject → handler start, p50 / p99 ({SAMPLES} objects, one at a time) | {s3} |\n\
                 | SNS fan-out: {FAN_OUT_MESSAGES} messages by {PUBLISHERS} publishers to a topic with 2 queue subscriptions, until both queues hold every copy | {:.0} messages/s ({:.0} deliveries/s) |\n",
                figures.fan_out,
                figures.fan_out * 2.0
            )
        }
        Err(reason) => {
            println!("notifications: {reason}");
            format!("{header}| SNS and S3 notifications | could not measure: {reason} |\n")
        }
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

struct Figures {
    sns: (Duration, Duration),
    s3: (Duration, Duration),
    fan_out: f64,
}

async fn measure(binary: &Path, dir: &Path, out: &Path) -> Result<Figures, String> {
    let (lambda_port, s3_port) = (cli::free_port().to_string(), cli::free_port().to_string());
    let param = format!("benchOut={}", out.display());
    let mut args =
        vec!["start", "--no-console", "--config", "notifications.yml", "--no-build", "--release", "--no-watch"];
    args.extend(["--stage", "bench", "--param", &param, "--http-port", "0", "--websocket-port", "0"]);
    args.extend(["--lambda-port", &lambda_port, "--s3-port", &s3_port]);
    let _running = cli::start_until_ready(binary, dir, &args)?;
    let lambda_url = format!("http://127.0.0.1:{lambda_port}");
    let (sns, s3, sqs) =
        (sns_client(&lambda_url), s3_client(&format!("http://127.0.0.1:{s3_port}")), sqs_client(&lambda_url));
    let mut written = 0;

    let topic = "arn:aws:sns:eu-north-1:000000000000:bench-latency";
    let mut sns_latencies = Vec::with_capacity(SAMPLES);
    for i in 0..WARM_UP + SAMPLES {
        sns.publish()
            .topic_arn(topic)
            .message(now_us().to_string())
            .send()
            .await
            .map_err(|e| format!("Publish: {e}"))?;
        written += 1;
        let latency = latency_of(&wait_for_lines(out, written).await?);
        if i >= WARM_UP {
            sns_latencies.push(latency);
        }
    }
    let mut s3_latencies = Vec::with_capacity(SAMPLES);
    for i in 0..WARM_UP + SAMPLES {
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"x");
        let put = s3.put_object().bucket("bench-uploads").key(now_us().to_string()).body(body);
        put.send().await.map_err(|e| format!("PutObject: {e}"))?;
        written += 1;
        let latency = latency_of(&wait_for_lines(out, written).await?);
        if i >= WARM_UP {
            s3_latencies.push(latency);
        }
    }
    let fan_out = fan_out(&sns, &sqs, &lambda_url).await?;
    Ok(Figures { sns: percentiles(sns_latencies), s3: percentiles(s3_latencies), fan_out })
}

/// Messages per second from the first publish until both queues hold every copy.
async fn fan_out(sns: &aws_sdk_sns::Client, sqs: &aws_sdk_sqs::Client, lambda_url: &str) -> Result<f64, String> {
    let topic = "arn:aws:sns:eu-north-1:000000000000:bench-fanout";
    let started = Instant::now();
    let mut publishers = tokio::task::JoinSet::new();
    for publisher in 0..PUBLISHERS {
        let sns = sns.clone();
        publishers.spawn(async move {
            for i in 0..FAN_OUT_MESSAGES / PUBLISHERS {
                sns.publish()
                    .topic_arn(topic)
                    .message(format!("{publisher}-{i}"))
                    .send()
                    .await
                    .map_err(|e| format!("Publish: {e}"))?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = publishers.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for queue in ["bench-fanout-1", "bench-fanout-2"] {
        let url = format!("{lambda_url}/000000000000/{queue}");
        loop {
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .send()
                .await
                .map_err(|e| format!("GetQueueAttributes: {e}"))?;
            let held: usize = attributes
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if held >= FAN_OUT_MESSAGES {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("{queue} held {held} of {FAN_OUT_MESSAGES} messages after 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(FAN_OUT_MESSAGES as f64 / started.elapsed().as_secs_f64())
}

fn latency_of(line: &str) -> Duration {
    let (sent, started) = line.split_once(',').unwrap_or(("0", "0"));
    let (sent, started): (u64, u64) = (sent.parse().unwrap_or(0), started.parse().unwrap_or(0));
    Duration::from_micros(started.saturating_sub(sent))
}

fn percentiles(mut latencies: Vec<Duration>) -> (Duration, Duration) {
    latencies.sort();
    (latencies[latencies.len() / 2], latencies[latencies.len() * 99 / 100])
}

macro_rules! local_client {
    ($sdk:ident, $endpoint:expr $(, $extra:ident)?) => {{
        use $sdk::config::{BehaviorVersion, Credentials, Region};
        let config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-north-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "ftb-bench"))
            .endpoint_url($endpoint);
        $(let config = config.$extra(true);)?
        $sdk::Client::from_conf(config.build())
    }};
}

fn sns_client(endpoint: &str) -> aws_sdk_sns::Client {
    local_client!(aws_sdk_sns, endpoint)
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    local_client!(aws_sdk_sqs, endpoint)
}

fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    local_client!(aws_sdk_s3, endpoint, force_path_style)
}
