//! The `ftb-offline` command line: parses arguments and calls the library. Nothing else lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ftb_offline::config::intrinsics::LocalEndpoints;
use ftb_offline::config::{self, LoadOptions};
use ftb_offline::lambda::build::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ftb-offline",
    version,
    about = "Run a Serverless Framework v3 app with Rust handlers on this machine: Lambda, API Gateway (REST, HTTP, WebSocket), SQS and DynamoDB Local"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// The service definition.
    #[arg(long, short = 'c', global = true, default_value = "serverless.yml")]
    config: PathBuf,
    /// Stage (`${opt:stage}`, `${sls:stage}`); default provider.stage, else dev.
    #[arg(long, short = 's', global = true)]
    stage: Option<String>,
    /// Region (`${opt:region}`); default provider.region, else us-east-1.
    #[arg(long, short = 'r', global = true)]
    region: Option<String>,
    /// A parameter for `${param:key}`, as key=value; repeatable.
    #[arg(long = "param", global = true, value_parser = key_value)]
    params: Vec<(String, String)>,
    /// Address to listen on (default 127.0.0.1; anything else is reachable from the network).
    #[arg(long, global = true)]
    host: Option<String>,
    /// HTTP API port (default custom.serverless-offline.httpPort, else 4000).
    #[arg(long, global = true)]
    http_port: Option<u16>,
    /// WebSocket API port (default custom.serverless-offline.websocketPort, else 4001).
    #[arg(long, global = true)]
    websocket_port: Option<u16>,
    /// Lambda and SQS API port (default custom.serverless-offline.lambdaPort, else 4002).
    #[arg(long, global = true)]
    lambda_port: Option<u16>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator: build the handlers, then serve the APIs until Ctrl-C.
    Start(StartArgs),
    /// Start DynamoDB Local in Docker and create the tables, then run the emulator.
    #[command(name = "start:with-db")]
    StartWithDb(StartArgs),
    /// Stop this service's DynamoDB Local container.
    #[command(name = "stop:db")]
    StopDb,
    /// Invoke a function through a running emulator's Lambda API.
    Invoke(InvokeArgs),
    /// Print the fully resolved service: functions with their environment and events, resources.
    Config(ConfigArgs),
}

#[derive(Args)]
struct StartArgs {
    /// Use the handler binaries already built instead of running `cargo build`.
    #[arg(long)]
    no_build: bool,
    /// Build the handlers with `--release`.
    #[arg(long)]
    release: bool,
    /// Do not rebuild and reload handlers when their source changes.
    #[arg(long)]
    no_watch: bool,
    /// Processes per function when it sets no reservedConcurrency.
    #[arg(long, default_value_t = 10)]
    max_concurrency: usize,
    /// Seconds an idle handler process is kept warm (default terminateIdleLambdaTime, else 60).
    #[arg(long)]
    idle_timeout: Option<u64>,
    /// Where handlers reach DynamoDB (AWS_ENDPOINT_URL_DYNAMODB).
    #[arg(long, default_value = ftb_offline::DEFAULT_DYNAMODB_ENDPOINT)]
    dynamodb_endpoint: String,
}

#[derive(Args)]
struct InvokeArgs {
    /// Function key, deployed name or ARN.
    function: String,
    /// The event, as JSON.
    #[arg(long, short = 'd', conflicts_with = "path")]
    data: Option<String>,
    /// A file holding the event JSON.
    #[arg(long, short = 'p')]
    path: Option<PathBuf>,
    /// RequestResponse (wait for the result), Event (fire and forget) or DryRun.
    #[arg(long = "type", default_value = "RequestResponse")]
    invocation_type: String,
    /// Print the invocation's log (the last 4 KB) to stderr.
    #[arg(long)]
    log: bool,
}

#[derive(Args)]
struct ConfigArgs {
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, found `{text}`"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FTB_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    // Thousands of WebSocket clients and handler processes need more than the usual 1024 file descriptors.
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!("could not raise the open-file limit: {err}");
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let common = cli.common;
    match cli.command {
        Command::Start(args) => start(&common, args).await,
        Command::StartWithDb(_) => Err(not_yet(
            "start:with-db (DynamoDB Local through Docker)",
            "use `ftb-offline start` with a DynamoDB Local you run yourself, and --dynamodb-endpoint",
        )),
        Command::StopDb => Err(not_yet("stop:db", "stop the DynamoDB Local you started yourself")),
        Command::Invoke(args) => invoke(&common, args).await,
        Command::Config(args) => print_config(&common, args),
    }
}

fn not_yet(what: &str, meanwhile: &str) -> String {
    format!("{what} is not available in this version of ftb-offline yet; meanwhile, {meanwhile}")
}

fn load_options(common: &Common) -> LoadOptions {
    LoadOptions {
        stage: common.stage.clone(),
        region: common.region.clone(),
        params: common.params.iter().cloned().collect(),
        ..LoadOptions::default()
    }
}

async fn start(common: &Common, args: StartArgs) -> Result<(), String> {
    let mut options = EmulatorOptions::new(&common.config);
    options.load = load_options(common);
    options.host = common.host.clone();
    options.http_port = common.http_port;
    options.websocket_port = common.websocket_port;
    options.lambda_port = common.lambda_port;
    options.build = if args.no_build {
        BuildMode::NoBuild { release: args.release }
    } else {
        BuildMode::Build { release: args.release }
    };
    options.max_concurrency = args.max_concurrency;
    options.watch = !args.no_watch;
    options.idle_timeout = args.idle_timeout.map(Duration::from_secs);
    options.dynamodb_endpoint = args.dynamodb_endpoint;
    let emulator = Emulator::start(options).await.map_err(|e| e.to_string())?;
    tracing::warn!("start:with-db (DynamoDB Local through Docker) is not available in this version yet: handlers reach DynamoDB at --dynamodb-endpoint");
    tracing::info!("press Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping");
    emulator.stop().await;
    Ok(())
}

fn print_config(common: &Common, args: ConfigArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    let endpoints = LocalEndpoints {
        host: match common.host.as_deref().unwrap_or(&service.offline.host) {
            "0.0.0.0" | "::" => "127.0.0.1".to_string(),
            other => other.to_string(),
        },
        http_port: common.http_port.unwrap_or(service.offline.http_port),
        websocket_port: common.websocket_port.unwrap_or(service.offline.websocket_port),
        lambda_port: common.lambda_port.unwrap_or(service.offline.lambda_port),
    };
    let view = ftb_offline::view::resolved_view(&service, &endpoints).map_err(|e| e.to_string())?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&view).expect("JSON values serialise")),
        Format::Yaml => print!("{}", ftb_offline::view::to_yaml(&view)),
    }
    Ok(())
}

async fn invoke(common: &Common, args: InvokeArgs) -> Result<(), String> {
    let payload = match (&args.data, &args.path) {
        (Some(data), _) => data.clone().into_bytes(),
        (None, Some(path)) => std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        (None, None) => b"{}".to_vec(),
    };
    let port = match common.lambda_port {
        Some(port) => port,
        None => config::load(&common.config, &load_options(common)).map(|s| s.offline.lambda_port).unwrap_or(4002),
    };
    let host = common.host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let outcome =
        ftb_offline::lambda::client::invoke(&host, port, &args.function, &args.invocation_type, args.log, payload)
            .await?;
    if let Some(log) = &outcome.log {
        eprint!("{log}");
    }
    if !outcome.body.is_empty() {
        println!("{}", String::from_utf8_lossy(&outcome.body));
    }
    match outcome.function_error {
        Some(kind) => Err(format!("the function failed ({kind})")),
        None => Ok(()),
    }
}
