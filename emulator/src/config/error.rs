//! Errors in a `serverless.yml`: where (file, line, column), which key, and what was expected.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A position in a configuration file. Lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: Arc<Path>, line: usize, column: usize) -> Self {
        Self { file, line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// What went wrong while loading a service definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending value was written, when the YAML tells us.
    pub location: Option<Location>,
    /// Dotted path of the offending key (`provider.environment.TASKS_TABLE`); empty for the whole file.
    pub key_path: String,
    pub message: String,
}

impl ConfigError {
    pub fn at(location: Location, key_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: Some(location), key_path: key_path.into(), message: message.into() }
    }

    pub fn syntax(location: Location, message: impl Into<String>) -> Self {
        Self::at(location, "", format!("YAML syntax error: {}", message.into()))
    }

    /// An error about a file as a whole (unreadable, for instance).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self { location: Some(Location::new(Arc::from(path), 1, 1)), key_path: String::new(), message: message.into() }
    }

    /// An error found after the YAML was turned into values, located later with [`super::Locations`].
    pub fn at_path(key_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: None, key_path: key_path.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        if !self.key_path.is_empty() {
            write!(f, "at `{}`: ", self.key_path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
