//! Building the handler binaries that `serverless.yml` points to, with the workspace's own cargo profile, and
//! finding them afterwards. Cargo's own progress and compiler errors are shown as cargo prints them.

use crate::Error;
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
        command.arg("build").current_dir(&self.root);
        if release {
            command.arg("--release");
        }
        for binary in binaries.keys() {
            command.args(["-p", &self.packages_by_binary[*binary], "--bin", binary]);
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
        self.target_dir.join("ftb-offline").join(instance)
    }

    /// Copies a built binary to its own file for one generation, so processes never start from a file cargo is
    /// rewriting, and emulators running side by side never share one. Returns the copy's path.
    pub fn stage(&self, built: &Path, binary: &str, instance: &str, generation: u64) -> Result<PathBuf, Error> {
        let dir = self.staging_dir(instance).join(binary).join(generation.to_string());
        let staged = dir.join(binary);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::copy(built, &staged))
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

/// A package's folder and the folders of the local (path) packages it depends on.
fn local_sources(package: &cargo_metadata::Package) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        package.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()).into_iter().collect();
    dirs.extend(package.dependencies.iter().filter_map(|d| d.path.as_ref()).map(|p| p.as_std_path().to_path_buf()));
    dirs
}
