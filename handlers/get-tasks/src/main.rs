//! getTasks, `GET /tasks`: every task (all scan pages), newest first, as a JSON array.

use fta_common::http::Cors;
use fta_common::store::TaskStore;
use fta_common::{env, Error};
use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, Response};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    let config = fta_common::aws_config().await;
    let tasks = TaskStore::new(&config, env::required("TASKS_TABLE")?);
    let cors = Cors::from_env();
    let (tasks, cors) = (&tasks, &cors);
    lambda_http::run(service_fn(move |request: Request| async move {
        let all = tasks.all().await?;
        Ok::<Response<Body>, Error>(cors.json(&request, StatusCode::OK, &all))
    }))
    .await
}
