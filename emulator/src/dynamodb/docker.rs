//! DynamoDB Local in Docker, through the Docker API (bollard): finding the engine, making sure the image is
//! there (pulling it with a progress bar), and the one container (and, with `--persist`, the one volume) that
//! ftb-offline keeps per service and stage. Everything it creates carries [`LABEL_ROLE`] and [`LABEL_SERVICE`]; anything
//! without them is never stopped, removed or reused.

use super::pull::PullProgress;
use super::ready::{self, NotReady, READY_TIMEOUT};
use super::{Database, DatabaseError, DatabaseSettings, Runner};
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, ContainerInspectResponse, HostConfig, Mount, MountType, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// The label every container and volume of ftb-offline's carries, with value [`ROLE_DYNAMODB`].
pub const LABEL_ROLE: &str = "dev.ftb-offline.role";
pub const ROLE_DYNAMODB: &str = "dynamodb-local";
/// The service and stage a container or volume belongs to.
pub const LABEL_SERVICE: &str = "dev.ftb-offline.service";
pub const LABEL_STAGE: &str = "dev.ftb-offline.stage";
/// `memory` or `volume`: where the container keeps its data.
const LABEL_STORAGE: &str = "dev.ftb-offline.storage";

/// The container's port and data folder, as in Amazon's image.
const CONTAINER_PORT: &str = "8000/tcp";
const DATA_DIR: &str = "/home/dynamodblocal/data";
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// A Docker engine that answered.
pub struct DockerEngine {
    docker: Docker,
    host: String,
}

impl DockerEngine {
    /// Connects to `DOCKER_HOST` when set, else to the first of the usual sockets (Linux, Docker Desktop,
    /// rootless, Colima) that answers a ping.
    pub async fn connect() -> Result<Self, DatabaseError> {
        let mut tried = Vec::new();
        for host in candidate_hosts() {
            match Self::try_connect(&host).await {
                Ok(docker) => return Ok(Self { docker, host }),
                Err(reason) => tried.push(format!("{host}: {reason}")),
            }
        }
        Err(DatabaseError::DockerUnreachable { tried: tried.join("; ") })
    }

    async fn try_connect(host: &str) -> Result<Docker, String> {
        if let Some(path) = host.strip_prefix("unix://") {
            if !std::path::Path::new(path).exists() {
                return Err("no such socket".into());
            }
        }
        let docker = Docker::connect_with_host(host).map_err(|e| e.to_string())?;
        let docker = match tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(docker)) => docker,
            Ok(Err(err)) => return Err(short_reason(&err)),
            Err(_) => return Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
        };
        match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => Ok(docker),
            Ok(Err(err)) => Err(short_reason(&err)),
            Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Reuses this service's running container, or creates and starts one, and waits until it answers.
    pub async fn start(&self, settings: &DatabaseSettings) -> Result<Database, DatabaseError> {
        let name = settings.container_name();
        if let Some(existing) = self.inspect(&name).await? {
            if !is_ours(&existing, settings) {
                return Err(DatabaseError::NameTaken { name });
            }
            if existing.state.as_ref().and_then(|s| s.running) == Some(true) {
                return self.reuse(&existing, settings).await;
            }
            // Stopped: recreate it with the settings asked for now (a volume keeps the data).
            self.remove_container(&name).await?;
        }
        self.ensure_image(&settings.image).await?;
        if settings.port != 0 && !ready::port_is_free(settings.port) {
            return Err(DatabaseError::PortInUse { port: settings.port });
        }
        if settings.persist {
            self.ensure_volume(settings).await?;
        }
        if !self.create_container(settings).await? {
            // Another start:with-db created it a moment ago: share theirs.
            return self.reuse_once_running(settings).await;
        }
        if let Err(err) = self.docker.start_container(&name, None).await {
            self.remove_container(&name).await?;
            return Err(match port_conflict(&err) {
                true => DatabaseError::PortInUse { port: settings.port },
                false => DatabaseError::docker(format!("start the container {name}"), short_reason(&err)),
            });
        }
        let started = self.inspect(&name).await?.ok_or_else(|| gone(&name))?;
        let port = host_port(&started).ok_or_else(|| gone(&name))?;
        self.wait_until_ready(&name, port).await?;
        tracing::info!(
            "DynamoDB Local is running in the container {name} ({}, {}) on 127.0.0.1:{port}",
            settings.image,
            storage_description(settings.persist)
        );
        Ok(Database::new(port, Runner::Docker { container: name }, false))
    }

    async fn reuse_once_running(&self, settings: &DatabaseSettings) -> Result<Database, DatabaseError> {
        let name = settings.container_name();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let existing = self.inspect(&name).await?.ok_or_else(|| gone(&name))?;
            if !is_ours(&existing, settings) {
                return Err(DatabaseError::NameTaken { name });
            }
            if existing.state.as_ref().and_then(|s| s.running) == Some(true) {
                return self.reuse(&existing, settings).await;
            }
            if std::time::Instant::now() > deadline {
                return Err(gone(&name));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn reuse(
        &self,
        existing: &ContainerInspectResponse,
        settings: &DatabaseSettings,
    ) -> Result<Database, DatabaseError> {
        let name = settings.container_name();
        let port = host_port(existing).ok_or_else(|| gone(&name))?;
        if settings.port != 0 && settings.port != port {
            tracing::warn!(
                "the container {name} already runs on port {port}, not {}; using it (`ftb-offline stop:db` first to change the port)",
                settings.port
            );
        }
        let persisted = labels(existing).get(LABEL_STORAGE).map(String::as_str) == Some("volume");
        if persisted != settings.persist {
            tracing::warn!(
                "the container {name} keeps its data {}; `ftb-offline stop:db` first to switch to {}",
                if persisted { "in a volume" } else { "in memory" },
                storage_description(settings.persist)
            );
        }
        self.wait_until_ready(&name, port).await?;
        tracing::info!("reusing the running DynamoDB Local container {name} on 127.0.0.1:{port}");
        Ok(Database::new(port, Runner::Docker { container: name }, true))
    }

    /// Stops and removes this service's container (and with `purge`, its volume). Returns what was removed.
    pub async fn stop(&self, settings: &DatabaseSettings, purge: bool) -> Result<Vec<String>, DatabaseError> {
        let name = settings.container_name();
        let mut removed = Vec::new();
        if let Some(existing) = self.inspect(&name).await? {
            if !is_ours(&existing, settings) {
                return Err(DatabaseError::NameTaken { name });
            }
            let options = StopContainerOptionsBuilder::new().t(10).build();
            match self.docker.stop_container(&name, Some(options)).await {
                Ok(()) | Err(BollardError::DockerResponseServerError { status_code: 304, .. }) => {}
                Err(err) => {
                    return Err(DatabaseError::docker(format!("stop the container {name}"), short_reason(&err)))
                }
            }
            self.remove_container(&name).await?;
            removed.push(format!("the container {name}"));
        }
        if purge && self.remove_volume(settings).await? {
            removed.push(format!("the volume {}", settings.volume_name()));
        }
        Ok(removed)
    }

    /// Pulls `image` unless the engine has it, with a progress bar.
    pub async fn ensure_image(&self, image: &str) -> Result<(), DatabaseError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(err) if not_found(&err) => {}
            Err(err) => return Err(DatabaseError::docker(format!("inspect the image {image}"), short_reason(&err))),
        }
        tracing::info!("pulling {image}: it is not on this machine yet");
        let (repository, tag) = split_tag(image);
        let options = CreateImageOptionsBuilder::new().from_image(repository).tag(tag).build();
        let mut progress = PullProgress::new(image);
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => progress.update(&info),
                Err(err) => {
                    progress.abandon();
                    return Err(DatabaseError::ImageUnavailable { image: image.into(), reason: short_reason(&err) });
                }
            }
        }
        progress.finish();
        Ok(())
    }

    /// Creates the container; false when one with its name appeared meanwhile.
    async fn create_container(&self, settings: &DatabaseSettings) -> Result<bool, DatabaseError> {
        let name = settings.container_name();
        let host_port = match settings.port {
            0 => String::new(), // Docker picks a free port
            port => port.to_string(),
        };
        let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(host_port) };
        let mounts = settings.persist.then(|| {
            vec![Mount {
                target: Some(DATA_DIR.into()),
                source: Some(settings.volume_name()),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            }]
        });
        let body = ContainerCreateBody {
            image: Some(settings.image.clone()),
            cmd: Some(dynamodb_arguments(settings.persist)),
            labels: Some(our_labels(settings)),
            exposed_ports: Some(vec![CONTAINER_PORT.into()]),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(CONTAINER_PORT.to_string(), Some(vec![binding]))])),
                mounts,
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        match self.docker.create_container(Some(options), body).await {
            Ok(_) => Ok(true),
            Err(BollardError::DockerResponseServerError { status_code: 409, .. }) => Ok(false),
            Err(err) => Err(DatabaseError::docker(format!("create the container {name}"), short_reason(&err))),
        }
    }

    async fn ensure_volume(&self, settings: &DatabaseSettings) -> Result<(), DatabaseError> {
        let name = settings.volume_name();
        match self.docker.inspect_volume(&name).await {
            Ok(volume) if volume.labels.get(LABEL_ROLE).map(String::as_str) == Some(ROLE_DYNAMODB) => return Ok(()),
            Ok(_) => return Err(DatabaseError::docker(
                format!("use the volume {name}"),
                "it exists but ftb-offline did not create it; remove it (`docker volume rm`) or run without --persist",
            )),
            Err(err) if not_found(&err) => {}
            Err(err) => return Err(DatabaseError::docker(format!("inspect the volume {name}"), short_reason(&err))),
        }
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(our_labels(settings)),
            ..Default::default()
        };
        self.docker
            .create_volume(request)
            .await
            .map_err(|err| DatabaseError::docker(format!("create the volume {name}"), short_reason(&err)))?;
        Ok(())
    }

    /// Removes this service's volume if it is ours; false when there was none.
    async fn remove_volume(&self, settings: &DatabaseSettings) -> Result<bool, DatabaseError> {
        let name = settings.volume_name();
        match self.docker.inspect_volume(&name).await {
            Ok(volume) if volume.labels.get(LABEL_ROLE).map(String::as_str) == Some(ROLE_DYNAMODB) => {}
            Ok(_) => {
                tracing::warn!("the volume {name} was not created by ftb-offline; leaving it alone");
                return Ok(false);
            }
            Err(err) if not_found(&err) => return Ok(false),
            Err(err) => return Err(DatabaseError::docker(format!("inspect the volume {name}"), short_reason(&err))),
        }
        self.docker
            .remove_volume(&name, Some(RemoveVolumeOptionsBuilder::new().build()))
            .await
            .map_err(|err| DatabaseError::docker(format!("remove the volume {name}"), short_reason(&err)))?;
        Ok(true)
    }

    async fn wait_until_ready(&self, name: &str, port: u16) -> Result<(), DatabaseError> {
        let running = || async { self.is_running(name).await };
        match ready::wait_until_ready(port, READY_TIMEOUT, running).await {
            Ok(took) => {
                tracing::debug!("DynamoDB Local answered after {} ms", took.as_millis());
                Ok(())
            }
            Err(why) => {
                let state = match why {
                    NotReady::Exited => "the container stopped",
                    NotReady::TimedOut => "the container is still starting",
                };
                let logs = self.log_tail(name).await;
                Err(DatabaseError::NotReady {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    seconds: READY_TIMEOUT.as_secs(),
                    detail: format!("; {state}; its last log lines: {logs} (`docker logs {name}` shows them all)"),
                })
            }
        }
    }

    async fn is_running(&self, name: &str) -> bool {
        matches!(self.inspect(name).await, Ok(Some(c)) if c.state.as_ref().and_then(|s| s.running) == Some(true))
    }

    async fn log_tail(&self, name: &str) -> String {
        let options = LogsOptionsBuilder::new().stdout(true).stderr(true).tail("5").build();
        let lines: Vec<String> = self
            .docker
            .logs(name, Some(options))
            .filter_map(|chunk| async move { chunk.ok().map(|c| c.to_string().trim().to_string()) })
            .collect()
            .await;
        lines.join(" | ")
    }

    async fn inspect(&self, name: &str) -> Result<Option<ContainerInspectResponse>, DatabaseError> {
        match self.docker.inspect_container(name, None).await {
            Ok(container) => Ok(Some(container)),
            Err(err) if not_found(&err) => Ok(None),
            Err(err) => Err(DatabaseError::docker(format!("inspect the container {name}"), short_reason(&err))),
        }
    }

    async fn remove_container(&self, name: &str) -> Result<(), DatabaseError> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(err) if not_found(&err) => Ok(()),
            Err(err) => Err(DatabaseError::docker(format!("remove the container {name}"), short_reason(&err))),
        }
    }
}

/// DynamoDB Local's arguments (the image's entrypoint is `java`, its folder the working directory). One shared
/// database for every access key and region, as handlers and tools use different dummy credentials.
fn dynamodb_arguments(persist: bool) -> Vec<String> {
    let storage: &[&str] = if persist { &["-dbPath", DATA_DIR] } else { &["-inMemory"] };
    ["-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-sharedDb"]
        .iter()
        .chain(storage)
        .chain(&["-disableTelemetry"])
        .map(|s| s.to_string())
        .collect()
}

fn our_labels(settings: &DatabaseSettings) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_ROLE.to_string(), ROLE_DYNAMODB.to_string()),
        (LABEL_SERVICE.to_string(), settings.service.clone()),
        (LABEL_STAGE.to_string(), settings.stage.clone()),
        (LABEL_STORAGE.to_string(), if settings.persist { "volume" } else { "memory" }.to_string()),
    ])
}

fn labels(container: &ContainerInspectResponse) -> HashMap<String, String> {
    container.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default()
}

fn is_ours(container: &ContainerInspectResponse, settings: &DatabaseSettings) -> bool {
    let labels = labels(container);
    labels.get(LABEL_ROLE).map(String::as_str) == Some(ROLE_DYNAMODB)
        && labels.get(LABEL_SERVICE) == Some(&settings.service)
        && labels.get(LABEL_STAGE) == Some(&settings.stage)
}

fn host_port(container: &ContainerInspectResponse) -> Option<u16> {
    let ports = container.network_settings.as_ref()?.ports.as_ref()?;
    let bindings = ports.get(CONTAINER_PORT)?.as_ref()?;
    bindings.iter().find_map(|b| b.host_port.as_deref()?.parse().ok())
}

fn storage_description(persist: bool) -> &'static str {
    if persist {
        "data kept in a Docker volume"
    } else {
        "data in memory"
    }
}

fn gone(name: &str) -> DatabaseError {
    DatabaseError::docker(format!("keep the container {name} running"), "it stopped right after starting")
}

/// `DOCKER_HOST` alone when set; otherwise the sockets Docker uses on Linux, Docker Desktop, rootless Docker
/// and Colima.
fn candidate_hosts() -> Vec<String> {
    if let Some(host) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
        return vec![host];
    }
    let mut hosts = vec!["unix:///var/run/docker.sock".to_string()];
    if let Some(home) = std::env::var_os("HOME") {
        let home = std::path::PathBuf::from(home);
        for socket in [".docker/run/docker.sock", ".docker/desktop/docker.sock", ".colima/default/docker.sock"] {
            hosts.push(format!("unix://{}", home.join(socket).display()));
        }
    }
    if let Ok(runtime_dir) = std::env::var("XDG_RUNTIME_DIR") {
        hosts.push(format!("unix://{runtime_dir}/docker.sock"));
    }
    hosts
}

/// `amazon/dynamodb-local:latest` → (`amazon/dynamodb-local`, `latest`); a registry port is not a tag.
fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (image, "latest"),
    }
}

fn not_found(err: &BollardError) -> bool {
    matches!(err, BollardError::DockerResponseServerError { status_code: 404, .. })
}

fn port_conflict(err: &BollardError) -> bool {
    let text = err.to_string();
    text.contains("port is already allocated") || text.contains("address already in use")
}

/// Docker's own message without bollard's wrapping.
fn short_reason(err: &BollardError) -> String {
    match err {
        BollardError::DockerResponseServerError { message, .. } => super::error::one_line(message),
        BollardError::DockerStreamError { error } => super::error::one_line(error),
        other => super::error::one_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split_into_repository_and_tag() {
        assert_eq!(split_tag("amazon/dynamodb-local:latest"), ("amazon/dynamodb-local", "latest"));
        assert_eq!(split_tag("amazon/dynamodb-local"), ("amazon/dynamodb-local", "latest"));
        assert_eq!(split_tag("registry.local:5000/ddb"), ("registry.local:5000/ddb", "latest"));
        assert_eq!(split_tag("registry.local:5000/ddb:2.5"), ("registry.local:5000/ddb", "2.5"));
    }

    #[test]
    fn arguments_keep_data_in_memory_or_in_the_volume() {
        assert!(dynamodb_arguments(false).contains(&"-inMemory".to_string()));
        let persisted = dynamodb_arguments(true);
        assert!(persisted.windows(2).any(|w| w == ["-dbPath", DATA_DIR]));
        assert!(persisted.contains(&"-sharedDb".to_string()));
    }
}
