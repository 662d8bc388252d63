//! The benchmark handler (see lib.rs) on `#[tokio::main]`'s multi-thread runtime.
use lambda_runtime::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(bench_hello::handle)).await
}
