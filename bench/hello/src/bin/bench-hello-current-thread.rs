//! The benchmark handler (see lib.rs) on a current-thread runtime: a Lambda execution environment runs one
//! invocation at a time, so the runtime's work never needs a second thread.
use lambda_runtime::{service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(bench_hello::handle)).await
}
