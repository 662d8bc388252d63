//! Cargo, for the Rust runtime: building the handler binaries that `serverless.yml` points to with the
//! workspace's own cargo profile, finding them afterwards, and staging each build as its own copy. Cargo's own
//! progress and compiler errors are shown as cargo prints them.

use crate::error::Error;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// How to get the binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildMode {
    /// `cargo build` (with `--release` when asked) before starting.
    Build { release: bool },
    /// Use what is built: `target/debug/<bin>` (`target/release/<bin>` with `release`), else cargo-lambda's
    /// `target/lambda/<bin>/bootstrap`.
    NoBuild { release: bool },
}

/// The cargo workspace around a service, and which package defines each binary.
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    packages_by_binary: HashMap<String, String>,
    /// The source folders each binary is built from: its package and the local packages it depends on.
    sources_by_binary: HashMap<String, Vec<PathBuf>>,
}

impl Workspace {
    /// Reads the cargo workspace that contains `service_dir`.
    pub fn discover(service_dir: &Path) -> Result<Self, Error> {
        let dir = if service_dir.as_os_str().is_empty() { Path::new(".") } else { service_dir };
        let metadata = cargo_metadata::MetadataCommand::new().current_dir(dir).no_deps().exec().map_err(|err| {
            Error::Build(format!(
                "cannot read the cargo workspace around {}: {err}; the handler crates must be in a cargo workspace (or pass --no-build with built binaries)",
                dir.display()
            ))
        })?;
        let mut packages_by_binary = HashMap::new();
        let mut sources_by_binary = HashMap::new();
        for package in metadata.workspace_packages() {
            for target in package.targets.iter().filter(|t| t.is_bin()) {
                packages_by_binary.insert(target.name.clone(), package.name.to_string());
                sources_by_binary.insert(target.name.clone(), local_sources(package));
            }
        }
        Ok(Self {
            root: metadata.workspace_root.into_std_path_buf(),
            target_dir: metadata.target_directory.into_std_path_buf(),
            packages_by_binary,
            sources_by_binary,
        })
    }

    /// Why `binary` cannot be built here, if it cannot.
    pub fn missing(&self, binary: &str, functions: &[String]) -> Option<String> {
        (!self.packages_by_binary.contains_key(binary)).then(|| {
            format!(
                "function {} runs the binary `{binary}`, which no package of the cargo workspace at {} defines; add a [[bin]] named `{binary}` or fix the function's package.artifact",
                functions.join(", "),
                self.root.display()
            )
        })
    }

    /// Runs one `cargo build` for the `binaries` this workspace defines (binary name → function keys).
    pub async fn build(&self, binaries: &BTreeMap<String, Vec<String>>, release: bool) -> Result<(), Error> {
        let binaries: BTreeMap<&String, &Vec<String>> =
            binaries.iter().filter(|(binary, _)| self.packages_by_binary.contains_key(*binary)).collect();
        if binaries.is_empty() {
            return Ok(());
        }
        let mut command = tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        clear_cargo_run_variables(command.as_std_mut());
        // `--workspace` with the binaries named, not `-p <package>`: cargo resolves dependencies' features for
        // the packages selected, so a `-p` build differs from the user's own `cargo build` (or the test build's
        // `cargo build --workspace`) and rebuilds every dependency whose features differ, then again after each
        // of the user's builds. With the whole workspace selected the features are the same, the compiled
        // dependencies are shared, and only the named binaries are built.
        command.args(["build", "--workspace"]).current_dir(&self.root);
        if release {
            command.arg("--release");
        }
        for binary in binaries.keys() {
            command.args(["--bin", binary]);
        }
        tracing::info!(target: "build", "building {} handler binaries: {}", binaries.len(), binaries.keys().map(|b| b.as_str()).collect::<Vec<_>>().join(", "));
        let started = std::time::Instant::now();
        let status = command.status().await.map_err(|err| {
            Error::Build(format!("cannot run cargo: {err}; is the Rust toolchain installed and on PATH?"))
        })?;
        if !status.success() {
            return Err(Error::Build(
                "the handler build failed (the compiler's errors are above); fix them and start again, or pass --no-build to run the binaries already built".into(),
            ));
        }
        tracing::info!(target: "build", "handlers built in {:.1} s", started.elapsed().as_secs_f64());
        Ok(())
    }

    /// The folders whose changes affect `binary`.
    pub fn sources(&self, binary: &str) -> &[PathBuf] {
        self.sources_by_binary.get(binary).map(Vec::as_slice).unwrap_or_default()
    }

    /// Where one emulator keeps its staged binaries (removed when it stops).
    pub fn staging_dir(&self, instance: &str) -> PathBuf {
        self.target_dir.join(STAGING).join(instance)
    }

    /// Creates this emulator's staging folder with its owner's pid, and removes the folders of emulators that
    /// ended without cleaning up (`kill -9`, a crash): their pid is gone, or they never wrote one and are old.
    pub fn claim_staging(&self, instance: &str) -> Result<(), Error> {
        let mine = self.staging_dir(instance);
        std::fs::create_dir_all(&mine)
            .and_then(|_| std::fs::write(mine.join(OWNER_FILE), std::process::id().to_string()))
            .map_err(|err| Error::Build(format!("cannot create {}: {err}", mine.display())))?;
        let entries = std::fs::read_dir(self.target_dir.join(STAGING)).into_iter().flatten().flatten();
        for stale in entries.map(|e| e.path()).filter(|dir| *dir != mine && is_abandoned(dir)) {
            tracing::debug!(target: "build", "removing {}, left by an emulator that is gone", stale.display());
            let _ = std::fs::remove_dir_all(stale);
        }
        Ok(())
    }

    /// Gives a built binary its own path for one generation, so processes never start from the path cargo
    /// writes its next build to. A hard link where it can (cargo and the linker replace the file rather than
    /// rewrite it, so the linked one keeps this build), else a copy. Returns the staged path.
    pub fn stage(&self, built: &Path, binary: &str, instance: &str, generation: u64) -> Result<PathBuf, Error> {
        let dir = self.staging_dir(instance).join(binary).join(generation.to_string());
        let staged = dir.join(binary);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::hard_link(built, &staged).or_else(|_| std::fs::copy(built, &staged).map(|_| ())))
            .map_err(|err| Error::Build(format!("cannot stage {} at {}: {err}", built.display(), staged.display())))?;
        Ok(staged)
    }

    /// Where a built binary is.
    pub fn binary_path(&self, binary: &str, mode: BuildMode) -> Result<PathBuf, Error> {
        let release = matches!(mode, BuildMode::Build { release: true } | BuildMode::NoBuild { release: true });
        let profile = if release { "release" } else { "debug" };
        let built = self.target_dir.join(profile).join(binary);
        if built.is_file() {
            return Ok(built);
        }
        let lambda = self.target_dir.join("lambda").join(binary).join("bootstrap");
        if matches!(mode, BuildMode::NoBuild { .. }) && lambda.is_file() {
            return Ok(lambda);
        }
        Err(Error::Build(format!(
            "the binary `{binary}` is not built ({} does not exist); start without --no-build, or run `cargo build --bin {binary}`",
            built.display()
        )))
    }
}

/// The folder under the target directory where emulators stage binaries, one folder each.
const STAGING: &str = "ftb-offline";
/// The pid of the emulator a staging folder belongs to.
/// The file naming the process that owns a staging folder.
pub const OWNER_FILE: &str = "owner.pid";
/// A staging folder without an owner file this old is abandoned (one being created has its file within moments).
const UNOWNED_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

/// Whether the emulator that made a staging folder is gone.
/// Whether a staging folder's owner is gone (or, without an owner file, the folder is old).
pub fn is_abandoned(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join(OWNER_FILE)).ok().and_then(|pid| pid.trim().parse::<i32>().ok()) {
        // SAFETY: kill(2) with signal 0 only asks whether the process exists.
        Some(pid) => unsafe {
            libc::kill(pid, 0) != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        },
        None => std::fs::metadata(dir)
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified.elapsed().unwrap_or_default() > UNOWNED_GRACE),
    }
}

/// A package's folder and the folders of the local (path) packages it depends on.
fn local_sources(package: &cargo_metadata::Package) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        package.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()).into_iter().collect();
    dirs.extend(package.dependencies.iter().filter_map(|d| d.path.as_ref()).map(|p| p.as_std_path().to_path_buf()));
    dirs
}

/// Removes what `cargo run` sets for the program it runs (`CARGO_PKG_*`, `CARGO_MANIFEST_*`, …) from a cargo
/// command's environment. Build scripts that watch such variables (ring's does) would otherwise rerun, and the
/// handlers' dependencies rebuild, whenever the emulator runs under `cargo run` after running on its own. Cargo's
/// own settings (`CARGO_HOME`, `CARGO_TARGET_DIR`, `CARGO_TARGET_<triple>_LINKER`, …) stay.
pub fn clear_cargo_run_variables(command: &mut std::process::Command) {
    const SET_BY_CARGO_RUN: [&str; 5] =
        ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE"];
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if SET_BY_CARGO_RUN.iter().any(|prefix| name.starts_with(prefix)) {
            command.env_remove(name);
        }
    }
}
