//! Where the local APIs answer ([`LocalEndpoints`]), and the APIs the Serverless Framework generates, with the
//! ids they have locally ([`GeneratedApi`]). Queue URLs, SDK endpoint variables and the `ready:` line are built
//! from these.

/// An API the Serverless Framework generates for a service: its CloudFormation logical id (what `Ref` and
/// `Fn::GetAtt` name) and the API id it has locally (what events carry in `requestContext.apiId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedApi {
    pub logical_id: &'static str,
    pub local_id: &'static str,
}

/// The REST API of `http` events.
pub const REST_API: GeneratedApi = GeneratedApi { logical_id: "ApiGatewayRestApi", local_id: "localrest" };
/// The HTTP API of `httpApi` events.
pub const HTTP_API: GeneratedApi = GeneratedApi { logical_id: "HttpApi", local_id: "localhttp" };
/// The WebSocket API of `websocket` events.
pub const WEBSOCKET_API: GeneratedApi = GeneratedApi { logical_id: "WebsocketsApi", local_id: "localws" };
pub const GENERATED_APIS: [GeneratedApi; 3] = [REST_API, HTTP_API, WEBSOCKET_API];

/// Where function URLs are served on the HTTP port: `/lambda-url/<function>/`, the path cargo lambda watch gives
/// them.
pub const FUNCTION_URL_PREFIX: &str = "/lambda-url/";

/// Where the emulator listens; URLs handed to handlers point here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEndpoints {
    /// The host that clients on this machine use (127.0.0.1 even when listening on 0.0.0.0).
    pub host: String,
    pub http_port: u16,
    pub websocket_port: u16,
    pub lambda_port: u16,
    /// The S3 API's own port (4569 by default, serverless-s3-local's).
    pub s3_port: u16,
}

impl LocalEndpoints {
    /// The endpoints of servers listening on `listen` (a wildcard address is reached as 127.0.0.1).
    pub fn new(listen: &str, http_port: u16, websocket_port: u16, lambda_port: u16, s3_port: u16) -> Self {
        Self { host: Self::client_host(listen), http_port, websocket_port, lambda_port, s3_port }
    }

    /// The address clients on this machine use for a listen address (127.0.0.1 for the wildcard ones).
    pub fn client_host(listen: &str) -> String {
        match listen {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_string(),
            other => other.to_string(),
        }
    }

    pub fn http_url(&self) -> String {
        format!("http://{}:{}", self.host, self.http_port)
    }

    /// A function's URL: on the HTTP port under [`FUNCTION_URL_PREFIX`] and the function's key (on AWS, a
    /// host of its own).
    pub fn function_url(&self, function_key: &str) -> String {
        format!("{}{FUNCTION_URL_PREFIX}{function_key}/", self.http_url())
    }

    pub fn websocket_url(&self) -> String {
        format!("ws://{}:{}", self.host, self.websocket_port)
    }

    /// The `@connections` management API: the WebSocket port over plain HTTP.
    pub fn management_url(&self) -> String {
        format!("http://{}:{}", self.host, self.websocket_port)
    }

    /// The S3 API (path-style: `<url>/<bucket>/<key>`).
    pub fn s3_url(&self) -> String {
        format!("http://{}:{}", self.host, self.s3_port)
    }

    /// The Lambda Invoke API, the SQS API and the SNS API share this endpoint.
    pub fn lambda_url(&self) -> String {
        format!("http://{}:{}", self.host, self.lambda_port)
    }

    /// Every endpoint by name, as `config` and the web console show them.
    pub fn described(&self) -> serde_json::Value {
        serde_json::json!({
            "http": self.http_url(),
            "websocket": self.websocket_url(),
            "lambda": self.lambda_url(),
            "s3": self.s3_url(),
        })
    }
}
