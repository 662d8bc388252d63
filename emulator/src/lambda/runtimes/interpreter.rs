//! The machine's interpreters (`node`, `python3`): where each is and which version it is. Found once per
//! emulator, from the command line (`--node`, `--python`), a project's virtual environment, or `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// An interpreter program and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub program: PathBuf,
    /// `20.20.2`, `3.11.7`.
    pub version: String,
}

impl Interpreter {
    /// Runs `program --version` and reads the version from its output (`v20.20.2`, `Python 3.11.7`).
    pub fn probe(program: &Path) -> Result<Self, String> {
        let output = Command::new(program)
            .arg("--version")
            .output()
            .map_err(|err| format!("cannot run {}: {err}", program.display()))?;
        let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
        let version = text
            .split_whitespace()
            .map(|word| word.trim_start_matches('v'))
            .find(|word| word.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .ok_or_else(|| format!("{} --version printed no version: {}", program.display(), text.trim()))?;
        Ok(Self { program: program.to_path_buf(), version: version.to_string() })
    }

    /// Asks a Python for its version and the program it really is, so a version manager's shim (pyenv's, a
    /// shell script that costs a tenth of a second per start) is resolved once, here. A virtual environment's
    /// program stays itself, so the environment's packages stay on its path.
    pub fn probe_python(program: &Path) -> Result<Self, String> {
        let output = Command::new(program)
            .args(["-c", "import sys, platform; print(sys.executable); print(platform.python_version())"])
            .output()
            .map_err(|err| format!("cannot run {}: {err}", program.display()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        match (lines.next(), lines.next()) {
            (Some(executable), Some(version)) if output.status.success() && !executable.is_empty() => {
                Ok(Self { program: PathBuf::from(executable), version: version.trim().to_string() })
            }
            _ => Err(format!(
                "{} is not a working Python 3: {}",
                program.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )),
        }
    }

    /// The version's first numbers: `(20, 20)` for Node.js 20.20.2, `(3, 11)` for Python 3.11.7.
    pub fn major_minor(&self) -> (u32, u32) {
        let mut numbers = self.version.split('.').map(|n| n.parse().unwrap_or(0));
        (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
    }
}

/// `name` as `PATH` finds it.
pub fn on_path(name: &str) -> Option<PathBuf> {
    which::which(name).ok()
}
