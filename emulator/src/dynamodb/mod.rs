//! DynamoDB Local for `start:with-db` and `stop:db`. Amazon's DynamoDB Local runs for one service in a Docker
//! container of ftb-offline's ([`docker`]) or, when no Docker engine answers, straight from its jar with Java
//! ([`jar`]): from the folder given, else from the one [`fetch`] keeps in the user's cache. [`start`] returns
//! once it answers HTTP; [`tables`] then creates the tables from `resources`. The database outlives the emulator, as `docker run -d` did, until [`stop`].

pub mod docker;
mod error;
mod fetch;
pub mod jar;
pub mod json_api;
mod pull;
pub mod ready;
pub mod seed;
pub mod tables;

pub use error::DatabaseError;

use crate::config::Service;
use std::path::PathBuf;

/// Where DynamoDB Local should run and how: `custom.dynamodb.start` from `serverless.yml`, then the command line.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The service and stage it belongs to: they name the container and the volume, so each stage has its own
    /// database, as it has its own tables on AWS.
    pub service: String,
    pub stage: String,
    /// Beside `serverless.yml`; the jar runner keeps its state and data under `.ftb-offline/` there.
    pub service_dir: PathBuf,
    /// Host port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Keep the data in a Docker volume (or on disk) instead of in memory.
    pub persist: bool,
    pub image: String,
    /// A folder holding DynamoDBLocal.jar, used when no Docker engine answers.
    pub local_dir: Option<PathBuf>,
    /// Use the DynamoDB Local already answering on `port` instead of starting one.
    pub no_start: bool,
}

impl DatabaseSettings {
    pub fn for_service(service: &Service) -> Self {
        let configured = &service.dynamodb;
        Self {
            service: service.service.clone(),
            stage: service.stage.clone(),
            service_dir: service.service_dir.clone(),
            port: configured.port,
            persist: !configured.in_memory,
            image: configured.docker_image.clone(),
            local_dir: None,
            no_start: configured.no_start,
        }
    }

    /// `ftb-offline-dynamodb-<service>-<stage>`, in the characters Docker allows in names.
    pub fn container_name(&self) -> String {
        let name = format!("ftb-offline-dynamodb-{}-{}", self.service, self.stage);
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect()
    }

    /// The named volume that keeps the data with `--persist`.
    pub fn volume_name(&self) -> String {
        format!("{}-data", self.container_name())
    }
}

/// A DynamoDB Local that answers.
#[derive(Debug, Clone)]
pub struct Database {
    pub port: u16,
    pub runner: Runner,
    /// It was already running and is shared with whoever started it.
    pub reused: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    Docker {
        container: String,
    },
    Jar {
        pid: u32,
    },
    /// Started by someone else (`custom.dynamodb.start.noStart`).
    External,
}

impl Database {
    pub fn new(port: u16, runner: Runner, reused: bool) -> Self {
        Self { port, runner, reused }
    }

    /// What handlers and tools use (AWS_ENDPOINT_URL_DYNAMODB).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Starts this service's DynamoDB Local, or reuses the one running, and waits until it answers.
pub async fn start(settings: &DatabaseSettings) -> Result<Database, DatabaseError> {
    if settings.no_start {
        return external(settings.port).await;
    }
    match docker::DockerEngine::connect().await {
        Ok(engine) => {
            tracing::debug!("Docker engine at {}", engine.host());
            engine.start(settings).await
        }
        Err(unreachable) => {
            // Java is looked for once, before anything is fetched: with no folder given and no Java either, the
            // error names both ways out.
            let java = jar::java().map_err(|no_java| match &settings.local_dir {
                Some(_) => no_java,
                None => neither_docker_nor_java(unreachable, no_java),
            })?;
            let dir = match &settings.local_dir {
                Some(dir) => dir.clone(),
                None => fetch::dynamodb_local().await?,
            };
            tracing::info!(
                "no Docker engine answers, so DynamoDB Local runs from Amazon's jar with Java, from {}",
                dir.display()
            );
            jar::start(settings, &dir, &java).await
        }
    }
}

fn neither_docker_nor_java(unreachable: DatabaseError, no_java: DatabaseError) -> DatabaseError {
    let tried = match unreachable {
        DatabaseError::DockerUnreachable { tried } => tried,
        other => other.to_string(),
    };
    let java = match no_java {
        DatabaseError::NoJava { reason } => reason,
        other => other.to_string(),
    };
    DatabaseError::NoDockerNorJava { tried, java }
}

/// Stops and removes this service's DynamoDB Local (container or jar process), and with `purge` its data.
/// Returns what was stopped or removed; empty when nothing of ours was running.
pub async fn stop(settings: &DatabaseSettings, purge: bool) -> Result<Vec<String>, DatabaseError> {
    let mut removed = jar::stop(settings, purge).await?;
    match docker::DockerEngine::connect().await {
        Ok(engine) => removed.extend(engine.stop(settings, purge).await?),
        // Without Docker there is no container to stop; the jar may have been all there was. Where Java is
        // missing too, nothing of ours can have run without Docker, so the engine was wanted.
        Err(unreachable) if removed.is_empty() && settings.local_dir.is_none() && jar::java().is_err() => {
            return Err(unreachable)
        }
        Err(_) => {}
    }
    Ok(removed)
}

async fn external(port: u16) -> Result<Database, DatabaseError> {
    if ready::answers_http(port).await {
        return Ok(Database::new(port, Runner::External, true));
    }
    Err(DatabaseError::NotReady {
        endpoint: format!("http://127.0.0.1:{port}"),
        seconds: 0,
        detail: "; custom.dynamodb.start.noStart is set, so ftb-offline does not start one: start DynamoDB Local \
                 on that port, or remove noStart"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_service_in_characters_docker_accepts() {
        let settings = DatabaseSettings {
            service: "fault tolerant/app".into(),
            stage: "dev".into(),
            service_dir: PathBuf::from("."),
            port: 8000,
            persist: false,
            image: crate::config::DEFAULT_DYNAMODB_IMAGE.into(),
            local_dir: None,
            no_start: false,
        };
        assert_eq!(settings.container_name(), "ftb-offline-dynamodb-fault-tolerant-app-dev");
        assert_eq!(settings.volume_name(), "ftb-offline-dynamodb-fault-tolerant-app-dev-data");
    }
}
