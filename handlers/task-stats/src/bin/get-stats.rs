//! getStats, `GET /stats`: the counts taskStats keeps, `{"submitted", "success", "error"}` (zeros before the
//! first task).

use fta_common::http::Cors;
use fta_common::stats::StatsStore;
use fta_common::{env, Error};
use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let stats = StatsStore::new(&config, env::required("STATS_TABLE")?);
    let cors = Cors::from_env();
    let (stats, cors) = (&stats, &cors);
    lambda_http::run(service_fn(move |request: Request| async move {
        let outcomes = stats.get().await?;
        Ok::<Response<Body>, Error>(cors.json(&request, StatusCode::OK, &outcomes))
    }))
    .await
}
