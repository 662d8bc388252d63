//! Which of API Gateway's HTTP APIs (or Lambda's function URLs) a request came through: it fixes the event's
//! payload format, the gateway's own error bodies and how CORS is answered.

/// Which API a route belongs to, which fixes the event payload format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// REST API, Lambda proxy integration, payload format 1.0.
    Rest,
    /// HTTP API, payload format 2.0.
    HttpApi,
    /// A Lambda function URL: payload format 2.0, Lambda's own errors and CORS.
    FunctionUrl,
}

impl Api {
    /// The API's name, as the console and the journal show it.
    pub fn name(self) -> &'static str {
        match self {
            Api::Rest => "REST API",
            Api::HttpApi => "HTTP API",
            Api::FunctionUrl => "function URL",
        }
    }

    /// The event and response format, as log lines name it.
    pub fn payload_format(self) -> &'static str {
        match self {
            Api::Rest => "Lambda proxy (payload 1.0)",
            Api::HttpApi => "HTTP API (payload 2.0)",
            Api::FunctionUrl => "function URL (payload 2.0)",
        }
    }
}
