//! What can stop the emulator from starting, each with what to do about it.

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot listen on {address} for the {what}: {source}; {hint}")]
    Bind { what: String, address: String, hint: String, source: std::io::Error },
    #[error("{0}")]
    Build(String),
    #[error("{0}")]
    Unavailable(String),
}
