//! The handlers' configuration: environment variables set by `serverless.yml`, read once at start-up. A missing
//! or malformed one stops the process at init with a message naming it (Lambda reports `Runtime.InitError`).

use crate::Error;

/// A required variable.
pub fn required(name: &str) -> Result<String, Error> {
    std::env::var(name)
        .map_err(|_| format!("the environment variable {name} is not set; serverless.yml sets it").into())
}

/// The probability that simulated work fails, `FAILURE_RATE` (0 to 1, default 0.3).
pub fn failure_rate() -> Result<f64, Error> {
    match std::env::var("FAILURE_RATE") {
        Err(_) => Ok(0.3),
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
            _ => Err(format!("FAILURE_RATE must be a number from 0 to 1, found {text:?}").into()),
        },
    }
}

/// The longest the simulated work takes, `WORK_MAX_MS` in milliseconds (default 0): each attempt works for a random
/// time up to it, so a function timeout below it makes some attempts time out.
pub fn work_max_ms() -> Result<u64, Error> {
    match std::env::var("WORK_MAX_MS") {
        Err(_) => Ok(0),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("WORK_MAX_MS must be a whole number of milliseconds, found {text:?}").into()),
    }
}
