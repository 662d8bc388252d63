//! The npm packages as users get them. `scripts/npm-pack` packs the launcher (`ftb-offline`) and this platform's
//! package (`@ftb-offline/<platform>`) around the binary the test command built. A new Node.js project installs the
//! two tarballs with no registry: `--offline` and an empty npm cache, so the other platforms' optional packages,
//! which no registry has, are skipped without being asked for. Then `npx ftb-offline` must run that binary: its
//! version, `config` in a fixture folder, its exit codes and errors, Ctrl-C stopping `start`, and the error a
//! project installed with `--omit=optional` gets.

use ftb_offline_tests::*;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// Longest any one npm, npx or script run may take: none needs the network.
const LIMIT: Duration = Duration::from_secs(60);

/// A service of queues only: `start --no-build` serves it with nothing to build.
const QUEUES_ONLY: &str = "service: packaged\nprovider: { name: aws, runtime: provided.al2023 }\nresources:\n  Resources:\n    Work:\n      Type: AWS::SQS::Queue\n      Properties: { QueueName: work }\n";

#[test]
fn the_npm_packages_install_offline_and_npx_runs_the_binary() {
    let work = tempfile::tempdir().unwrap();
    let npm_cache = work.path().join("npm-cache");
    let version = crate_version();
    let platform = npm_platform();

    // Pack, as a release does.
    let out = work.path().join("out");
    let packed_binary = binary_to_pack(work.path());
    let mut pack = npm_command(&repo_root().join("scripts/npm-pack"), &repo_root(), &npm_cache);
    pack.arg("--binary").arg(&packed_binary).arg("--out").arg(&out);
    let packed = succeeds(run(&mut pack), "scripts/npm-pack");
    let tarballs: Vec<PathBuf> = packed.lines().map(PathBuf::from).collect();
    assert_eq!(
        tarballs,
        [out.join(format!("ftb-offline-{version}.tgz")), out.join(format!("ftb-offline-{platform}-{version}.tgz"))],
        "scripts/npm-pack prints the launcher's tarball, then the platform's"
    );
    assert!(tarballs.iter().all(|tarball| tarball.is_file()), "{tarballs:?} are written");

    // A project installs both, in one command, as `npm i -D ftb-offline` would from a registry.
    let project = work.path().join("project");
    std::fs::create_dir(&project).unwrap();
    succeeds(run(&mut npm(&project, &npm_cache, &["init", "-y"])), "npm init -y");
    let mut install = npm(&project, &npm_cache, &["install", "--save-dev"]);
    install.args(&tarballs);
    succeeds(run(&mut install), "npm install of both tarballs");
    let modules = project.join("node_modules");
    assert!(modules.join("ftb-offline/bin/ftb-offline.js").is_file(), "the launcher is installed");
    let installed = modules.join(format!("@ftb-offline/{platform}/bin/ftb-offline"));
    assert!(
        std::fs::read(&installed).unwrap() == std::fs::read(&packed_binary).unwrap(),
        "{} is the packed binary",
        installed.display()
    );

    // The version, through npx and the launcher, is the binary's and the crate's.
    let direct = run(Command::new(ftb_offline_binary()).arg("--version"));
    assert_eq!(text(&direct.stdout).trim(), format!("ftb-offline {version}"));
    let fixtures = repo_root().join("tests/fixtures");
    let by_npx = succeeds(run(&mut npx(&project, &fixtures, &npm_cache, &["--version"])), "npx ftb-offline --version");
    assert_eq!(by_npx.trim(), format!("ftb-offline {version}"));

    // `config` in the fixture folder reads its serverless.yml, as the binary run there does.
    let config = succeeds(
        run(&mut npx(&project, &fixtures, &npm_cache, &["config", "--format", "json"])),
        "npx ftb-offline config in tests/fixtures",
    );
    let view: serde_json::Value = serde_json::from_str(&config).unwrap_or_else(|_| panic!("not JSON: {config}"));
    assert_eq!(view["service"], "ftb-fixtures");
    assert_eq!(view["functions"]["echo"]["name"], "ftb-fixtures-dev-echo");
    let direct = run(Command::new(ftb_offline_binary()).args(["config", "--format", "json"]).current_dir(&fixtures));
    assert_eq!(config, text(&direct.stdout), "npx prints what the binary prints");

    // Failures keep their exit code and the emulator's message: 1 for a missing serverless.yml, 2 for a usage error.
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let missing = run(&mut npx(&project, &empty, &npm_cache, &["config"]));
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("cannot read the service file"), "{}", text(&missing.stderr));
    let usage = run(&mut npx(&project, &empty, &npm_cache, &["no-such-command"]));
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage.stderr));
    assert!(text(&usage.stderr).contains("no-such-command"), "{}", text(&usage.stderr));

    // Ctrl-C (SIGINT) sent to the launcher alone reaches `start`, which stops cleanly.
    let service = work.path().join("service");
    std::fs::create_dir(&service).unwrap();
    std::fs::write(service.join("serverless.yml"), QUEUES_ONLY).unwrap();
    let status = start_then_interrupt(&modules.join(".bin/ftb-offline"), &service);
    assert!(status.success(), "the launcher ends as the emulator did, cleanly: {status}");

    // A project installed without optional dependencies gets one error naming the package it lacks, and the way out.
    let bare = work.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    succeeds(run(&mut npm(&bare, &npm_cache, &["init", "-y"])), "npm init -y");
    let mut install = npm(&bare, &npm_cache, &["install", "--save-dev", "--omit=optional"]);
    install.arg(&tarballs[0]);
    succeeds(run(&mut install), "npm install --omit=optional of the launcher");
    assert!(!bare.join(format!("node_modules/@ftb-offline/{platform}")).exists());
    let lacking = run(&mut npx(&bare, &empty, &npm_cache, &["--version"]));
    let message = text(&lacking.stderr);
    assert_eq!(lacking.status.code(), Some(1), "{message}");
    let package = format!("@ftb-offline/{platform}@{version}");
    for needed in [package.as_str(), "--omit=optional", "cargo install ftb-offline"] {
        assert!(message.contains(needed), "the error names {needed}: {message}");
    }
}

/// The `version` of emulator/Cargo.toml's `[package]`, which both npm packages carry.
fn crate_version() -> String {
    let manifest = std::fs::read_to_string(repo_root().join("emulator/Cargo.toml")).unwrap();
    manifest
        .lines()
        .skip_while(|line| line.trim() != "[package]")
        .take_while(|line| *line == "[package]" || !line.starts_with('['))
        .find_map(|line| Some(line.strip_prefix("version = \"")?.strip_suffix('"')?.to_string()))
        .expect("emulator/Cargo.toml's [package] has a version")
}

/// This machine's platform as npm names it (`linux-x64`, `darwin-arm64`): the platform package scripts/npm-pack
/// makes by default.
fn npm_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let cpu = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}-{cpu}")
}

/// The binary the test command built, stripped of its symbols and debug information where `strip` is there:
/// packing and installing 100+ MB of debug information would take most of this test's time. The code is the same.
fn binary_to_pack(dir: &Path) -> PathBuf {
    let binary = ftb_offline_binary();
    let stripped = dir.join("ftb-offline");
    let status = Command::new("strip").arg("-o").arg(&stripped).arg(&binary).status();
    if status.is_ok_and(|status| status.success()) {
        stripped
    } else {
        binary
    }
}

/// `program` in `dir` with npm's cache in this test's folder and nothing fetched: `--offline` makes a package
/// that is not in that (empty) cache fail at once instead of being asked of a registry. No override of the binary.
fn npm_command(program: &Path, dir: &Path, cache: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("npm_config_cache", cache)
        .env("npm_config_offline", "true")
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("NO_COLOR", "1")
        .env_remove("FTB_OFFLINE_BINARY");
    command
}

fn npm(project: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut command = npm_command(Path::new("npm"), project, cache);
    command.args(args);
    command
}

/// `npx ftb-offline ARGS` run in `dir`, finding the command in `project`'s node_modules (and nowhere else: `--no`
/// refuses to download a package).
fn npx(project: &Path, dir: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut command = npm_command(Path::new("npx"), dir, cache);
    command.arg("--prefix").arg(project).args(["--no", "--", "ftb-offline"]).args(args);
    command
}

/// Runs `command` to its end, at most [`LIMIT`], with its output captured.
fn run(command: &mut Command) -> Output {
    let description = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{description} cannot start: {err}"));
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(LIMIT) {
        Ok(output) => output.unwrap_or_else(|err| panic!("{description}: {err}")),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which is not reaped until the thread above waits.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("{description} took more than {LIMIT:?}")
        }
    }
}

/// The standard output of a run that succeeded; panics with both streams otherwise.
fn succeeds(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `launcher start` in `service` on free ports until it is ready, sends SIGINT to the launcher's process only
/// (not its group, as a terminal would), and returns its exit status once the emulator has logged that it stops.
fn start_then_interrupt(launcher: &Path, service: &Path) -> ExitStatus {
    let mut command = npm_command(launcher, service, &service.join("npm-cache"));
    command.args(["start", "--no-build", "--no-watch"]).args(FREE_PORTS).env("FTB_LOG", "info");
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let (sender, lines) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut log = Vec::new();
    let wait_for = |needle: &str, log: &mut Vec<String>| loop {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let found = line.contains(needle);
                log.push(line);
                if found {
                    return;
                }
            }
            Err(_) => {
                // SAFETY: kill(2) on our own child's pid, not yet waited for.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                panic!("no line with {needle:?} from the launcher's `start`; its log:\n{}", log.join("\n"));
            }
        }
    };
    wait_for("ready:", &mut log);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, libc::SIGINT) };
    wait_for("stopping", &mut log);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the launcher did not end after SIGINT; its log:\n{}", log.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
