//! CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If`,
//! `Fn::Base64`, conditions and pseudo parameters) resolved to the emulator's local values.
//!
//! A queue's `Ref` is its local queue URL, a table's `Ref` its name, `Arn` attributes are local ARNs (account
//! 000000000000), and the APIs Serverless generates (`ApiGatewayRestApi`, `HttpApi`, `WebsocketsApi`) resolve to
//! the local endpoints: an `https://<api>.execute-api.<region>.amazonaws.com/<stage>` URL built from them becomes
//! `http://127.0.0.1:<port>/<stage>`. Handlers read the same variables on AWS and here.

use super::error::ConfigError;
use super::fields::is_intrinsic;
use super::model::{Function, Service};
use super::variables::{join_path, kind_of};
use crate::aws::endpoints::{LocalEndpoints, GENERATED_APIS, HTTP_API, WEBSOCKET_API};
use crate::aws::names::{self, ACCOUNT_ID};
use base64::Engine;
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// Resolves intrinsics for one service against its local endpoints.
pub struct Intrinsics<'a> {
    service: &'a Service,
    endpoints: &'a LocalEndpoints,
}

impl<'a> Intrinsics<'a> {
    pub fn new(service: &'a Service, endpoints: &'a LocalEndpoints) -> Self {
        Self { service, endpoints }
    }

    /// A function's environment with every intrinsic resolved, as the strings the process receives.
    pub fn environment(&self, function: &Function) -> Result<IndexMap<String, String>, ConfigError> {
        let mut out = IndexMap::new();
        for (name, value) in &function.environment {
            let own = format!("functions.{}.environment.{name}", function.key);
            let path = if self.service.locations.has(&own) { own } else { format!("provider.environment.{name}") };
            let resolved = self.resolve(value, &path).map_err(|e| self.service.locate(e))?;
            let text = match resolved {
                None => continue,
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Null) => String::new(),
                Some(other) => {
                    return Err(self.service.locate(ConfigError::at_path(
                        path,
                        format!("expected a string value for an environment variable, found {}", kind_of(&other)),
                    )))
                }
            };
            out.insert(name.clone(), text);
        }
        Ok(out)
    }

    /// Resolves every intrinsic inside `value`. `None` stands for `AWS::NoValue`: the key disappears.
    pub fn resolve(&self, value: &Value, path: &str) -> Result<Option<Value>, ConfigError> {
        match value {
            Value::Object(map) if is_intrinsic(map) => {
                let (name, argument) = map.iter().next().expect("an intrinsic has one key");
                self.function(name, argument, &join_path(path, name))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, child) in map {
                    if let Some(resolved) = self.resolve(child, &join_path(path, key))? {
                        out.insert(key.clone(), resolved);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(resolved) = self.resolve(item, &join_path(path, &i.to_string()))? {
                        out.push(resolved);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::String(s) => Ok(Some(Value::String(self.localize_url(s)))),
            other => Ok(Some(other.clone())),
        }
    }

    /// Like [`Self::resolve`], for places that need a string (an ARN, a name).
    pub fn resolve_string(&self, value: &Value, path: &str) -> Result<String, ConfigError> {
        match self.resolve(value, path)? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            other => Err(ConfigError::at_path(
                path,
                format!("expected a string, found {}", other.as_ref().map(kind_of).unwrap_or("AWS::NoValue")),
            )),
        }
    }

    fn function(&self, name: &str, argument: &Value, path: &str) -> Result<Option<Value>, ConfigError> {
        match name {
            "Ref" => self.reference(self.resolve_string(argument, path)?.as_str(), path),
            "Fn::GetAtt" => self.get_att(argument, path).map(Some),
            "Fn::Join" => self.join(argument, path).map(Some),
            "Fn::Sub" => self.sub(argument, path).map(|s| Some(Value::String(s))),
            "Fn::Select" => self.select(argument, path),
            "Fn::Split" => self.split(argument, path).map(Some),
            "Fn::If" => self.if_(argument, path),
            "Fn::Base64" => {
                let text = self.resolve_string(argument, path)?;
                Ok(Some(Value::String(base64::engine::general_purpose::STANDARD.encode(text))))
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => {
                let mut single = Map::new();
                single.insert(name.to_string(), argument.clone());
                self.condition_value(&Value::Object(single), path).map(|b| Some(Value::Bool(b)))
            }
            other => Err(ConfigError::at_path(
                path,
                format!("`{other}` cannot be resolved locally: it needs a deployed CloudFormation stack; use a literal or a Serverless variable here"),
            )),
        }
    }

    /// `Ref`: pseudo parameters, the generated APIs, and resources by type.
    fn reference(&self, target: &str, path: &str) -> Result<Option<Value>, ConfigError> {
        let service = self.service;
        let text = |s: String| Ok(Some(Value::String(s)));
        match target {
            "AWS::Region" => return text(service.region.clone()),
            "AWS::AccountId" => return text(ACCOUNT_ID.to_string()),
            "AWS::StackName" => return text(service.stack_name()),
            "AWS::StackId" => return text(names::stack_id(&service.region, &service.stack_name())),
            "AWS::Partition" => return text("aws".to_string()),
            "AWS::URLSuffix" => return text("amazonaws.com".to_string()),
            "AWS::NoValue" => return Ok(None),
            "AWS::NotificationARNs" => return Ok(Some(Value::Array(Vec::new()))),
            _ => {}
        }
        if let Some(api) = GENERATED_APIS.iter().find(|api| api.logical_id == target) {
            return text(api.local_id.to_string());
        }
        if let Some(function) = self.service.function_by_logical_id(target) {
            return text(function.name.clone());
        }
        let Some(resource) = service.resources.resources.get(target) else {
            return Err(ConfigError::at_path(path, format!("`Ref: {target}` names no resource; expected a logical id under resources.Resources, a function's logical id, or a pseudo parameter such as AWS::Region")));
        };
        match resource.kind.as_str() {
            "AWS::SQS::Queue" => text(self.queue_url(&self.physical_name(target)?)),
            // A topic's Ref is its ARN (CloudFormation, AWS::SNS::Topic "Return values").
            "AWS::SNS::Topic" => text(names::topic_arn(&service.region, &self.physical_name(target)?)),
            _ => text(self.physical_name(target)?),
        }
    }

    fn get_att(&self, argument: &Value, path: &str) -> Result<Value, ConfigError> {
        let (logical, attribute) = match argument {
            Value::Array(parts) if parts.len() == 2 => {
                (self.resolve_string(&parts[0], path)?, self.resolve_string(&parts[1], path)?)
            }
            Value::String(s) => match s.split_once('.') {
                Some((l, a)) => (l.to_string(), a.to_string()),
                None => {
                    return Err(ConfigError::at_path(path, format!("expected `Resource.Attribute`, found \"{s}\"")))
                }
            },
            other => {
                return Err(ConfigError::at_path(
                    path,
                    format!("expected [Resource, Attribute], found {}", kind_of(other)),
                ))
            }
        };
        let region = &self.service.region;
        let unknown =
            || ConfigError::at_path(path, format!("`Fn::GetAtt {logical}.{attribute}` is not available locally"));
        if logical == WEBSOCKET_API.logical_id || logical == HTTP_API.logical_id {
            let url = if logical == WEBSOCKET_API.logical_id {
                self.endpoints.websocket_url()
            } else {
                self.endpoints.http_url()
            };
            return match attribute.as_str() {
                "ApiEndpoint" => Ok(Value::String(url)),
                "ApiId" => {
                    let api = if logical == WEBSOCKET_API.logical_id { WEBSOCKET_API } else { HTTP_API };
                    Ok(Value::String(api.local_id.to_string()))
                }
                _ => Err(unknown()),
            };
        }
        if let Some(function) = self.service.function_by_logical_id(&logical) {
            return match attribute.as_str() {
                "Arn" => Ok(Value::String(names::lambda_arn(region, &function.name))),
                _ => Err(unknown()),
            };
        }
        // Serverless names a function's URL `<Key>LambdaFunctionUrl`; locally it is served on the HTTP port.
        if let Some(base) = logical.strip_suffix("Url") {
            if let Some(function) = self.service.function_by_logical_id(base).filter(|f| f.url.is_some()) {
                return match attribute.as_str() {
                    "FunctionUrl" => Ok(Value::String(self.endpoints.function_url(&function.key))),
                    "FunctionArn" => Ok(Value::String(names::lambda_arn(region, &function.name))),
                    _ => Err(unknown()),
                };
            }
        }
        let Some(resource) = self.service.resources.resources.get(&logical) else {
            return Err(ConfigError::at_path(
                path,
                format!("`Fn::GetAtt` names `{logical}`, which is not under resources.Resources"),
            ));
        };
        let name = self.physical_name(&logical)?;
        let value = match (resource.kind.as_str(), attribute.as_str()) {
            ("AWS::SQS::Queue", "Arn") => names::queue_arn(region, &name),
            ("AWS::SQS::Queue", "QueueName") => name,
            ("AWS::SQS::Queue", "QueueUrl") => self.queue_url(&name),
            ("AWS::DynamoDB::Table", "Arn") => names::table_arn(region, &name),
            ("AWS::DynamoDB::Table", "StreamArn") => names::table_stream_arn(region, &name, "local"),
            ("AWS::SNS::Topic", "TopicArn") => names::topic_arn(region, &name),
            ("AWS::SNS::Topic", "TopicName") => name,
            ("AWS::S3::Bucket", "Arn") => names::bucket_arn(&name),
            (_, "Arn") => names::other_arn(region, &name),
            _ => return Err(unknown()),
        };
        Ok(Value::String(value))
    }

    fn join(&self, argument: &Value, path: &str) -> Result<Value, ConfigError> {
        let Value::Array(parts) = argument else {
            return Err(ConfigError::at_path(path, "expected [delimiter, [values…]]"));
        };
        let [delimiter, list] = parts.as_slice() else {
            return Err(ConfigError::at_path(path, "expected [delimiter, [values…]]"));
        };
        let delimiter = self.resolve_string(delimiter, path)?;
        let items = self.list(list, &join_path(path, "1"))?;
        let mut texts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            texts.push(scalar_text(item).ok_or_else(|| {
                ConfigError::at_path(
                    join_path(path, &format!("1.{i}")),
                    format!("expected a string to join, found {}", kind_of(item)),
                )
            })?);
        }
        Ok(Value::String(self.localize_url(&texts.join(&delimiter))))
    }

    fn sub(&self, argument: &Value, path: &str) -> Result<String, ConfigError> {
        let (template, variables) = match argument {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Array(parts) if parts.len() == 2 => {
                let template = self.resolve_string(&parts[0], path)?;
                let variables = match self.resolve(&parts[1], path)? {
                    Some(Value::Object(map)) => map,
                    _ => return Err(ConfigError::at_path(path, "expected [template, {variable: value}]")),
                };
                (template, variables)
            }
            _ => return Err(ConfigError::at_path(path, "expected a template string or [template, {variable: value}]")),
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                return Err(ConfigError::at_path(path, format!("unclosed `${{` in \"{template}\"")));
            };
            let name = &rest[start + 2..start + len];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(&scalar_text(value).unwrap_or_default());
            } else if name.contains('.') && !name.starts_with("AWS::") {
                out.push_str(&scalar_text(&self.get_att(&Value::String(name.to_string()), path)?).unwrap_or_default());
            } else {
                let value = self.reference(name, path)?.unwrap_or(Value::Null);
                out.push_str(&scalar_text(&value).unwrap_or_default());
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(self.localize_url(&out))
    }

    fn select(&self, argument: &Value, path: &str) -> Result<Option<Value>, ConfigError> {
        let Value::Array(parts) = argument else {
            return Err(ConfigError::at_path(path, "expected [index, [values…]]"));
        };
        let [index, list] = parts.as_slice() else {
            return Err(ConfigError::at_path(path, "expected [index, [values…]]"));
        };
        let index_text = self.resolve(index, path)?.and_then(|v| scalar_text(&v)).unwrap_or_default();
        let index: usize = index_text.parse().map_err(|_| {
            ConfigError::at_path(path, format!("expected a whole-number index, found \"{index_text}\""))
        })?;
        let items = self.list(list, &join_path(path, "1"))?;
        items.get(index).cloned().map(Some).ok_or_else(|| {
            ConfigError::at_path(path, format!("index {index} is out of range for a list of {} items", items.len()))
        })
    }

    fn split(&self, argument: &Value, path: &str) -> Result<Value, ConfigError> {
        let Value::Array(parts) = argument else {
            return Err(ConfigError::at_path(path, "expected [delimiter, string]"));
        };
        let [delimiter, source] = parts.as_slice() else {
            return Err(ConfigError::at_path(path, "expected [delimiter, string]"));
        };
        let delimiter = self.resolve_string(delimiter, path)?;
        let source = self.resolve_string(source, path)?;
        Ok(Value::Array(source.split(delimiter.as_str()).map(|s| Value::String(s.to_string())).collect()))
    }

    fn if_(&self, argument: &Value, path: &str) -> Result<Option<Value>, ConfigError> {
        let Value::Array(parts) = argument else {
            return Err(ConfigError::at_path(path, "expected [condition, value if true, value if false]"));
        };
        let [condition, when_true, when_false] = parts.as_slice() else {
            return Err(ConfigError::at_path(path, "expected [condition, value if true, value if false]"));
        };
        let name = self.resolve_string(condition, path)?;
        let chosen = if self.named_condition(&name, path, &mut Vec::new())? { when_true } else { when_false };
        self.resolve(chosen, path)
    }

    fn named_condition(&self, name: &str, path: &str, seen: &mut Vec<String>) -> Result<bool, ConfigError> {
        if seen.iter().any(|s| s == name) {
            return Err(ConfigError::at_path(path, format!("condition `{name}` refers to itself")));
        }
        let Some(definition) = self.service.resources.conditions.get(name) else {
            return Err(ConfigError::at_path(
                path,
                format!("condition `{name}` is not defined under resources.Conditions"),
            ));
        };
        seen.push(name.to_string());
        let result = self.condition_value(definition, &format!("resources.Conditions.{name}"));
        seen.pop();
        result
    }

    fn condition_value(&self, value: &Value, path: &str) -> Result<bool, ConfigError> {
        let Value::Object(map) = value else {
            return match value {
                Value::Bool(b) => Ok(*b),
                other => Err(ConfigError::at_path(path, format!("expected a condition, found {}", kind_of(other)))),
            };
        };
        let Some((name, argument)) = map.iter().next() else {
            return Err(ConfigError::at_path(path, "expected a condition function"));
        };
        let list = |arg: &Value| -> Result<Vec<Value>, ConfigError> {
            match arg {
                Value::Array(items) => Ok(items.clone()),
                _ => Err(ConfigError::at_path(path, format!("expected a list for `{name}`"))),
            }
        };
        match name.as_str() {
            "Fn::Equals" => {
                let items = list(argument)?;
                let [a, b] = items.as_slice() else {
                    return Err(ConfigError::at_path(path, "expected [value, value] for Fn::Equals"));
                };
                Ok(self.resolve(a, path)?.and_then(|v| scalar_text(&v))
                    == self.resolve(b, path)?.and_then(|v| scalar_text(&v)))
            }
            "Fn::Not" => Ok(!self.condition_value(list(argument)?.first().unwrap_or(&Value::Null), path)?),
            "Fn::And" => list(argument)?.iter().try_fold(true, |acc, c| Ok(acc && self.condition_value(c, path)?)),
            "Fn::Or" => list(argument)?.iter().try_fold(false, |acc, c| Ok(acc || self.condition_value(c, path)?)),
            "Condition" => self.named_condition(&self.resolve_string(argument, path)?, path, &mut Vec::new()),
            other => Err(ConfigError::at_path(
                path,
                format!(
                    "`{other}` is not a condition function; expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition"
                ),
            )),
        }
    }

    fn list(&self, value: &Value, path: &str) -> Result<Vec<Value>, ConfigError> {
        match self.resolve(value, path)? {
            Some(Value::Array(items)) => Ok(items),
            other => Err(ConfigError::at_path(
                path,
                format!("expected a list, found {}", other.as_ref().map(kind_of).unwrap_or("AWS::NoValue")),
            )),
        }
    }

    /// The name a resource gets: its name property, or CloudFormation's `stack-LogicalId` when none is set.
    pub fn physical_name(&self, logical: &str) -> Result<String, ConfigError> {
        let resource = &self.service.resources.resources[logical];
        let property = match resource.kind.as_str() {
            "AWS::SQS::Queue" => "QueueName",
            "AWS::DynamoDB::Table" => "TableName",
            "AWS::SNS::Topic" => "TopicName",
            "AWS::S3::Bucket" => "BucketName",
            _ => "Name",
        };
        let path = format!("resources.Resources.{logical}.Properties.{property}");
        match resource.properties.get(property) {
            Some(value) => self.resolve_string(value, &path),
            None => {
                let fifo = ["FifoQueue", "FifoTopic"]
                    .iter()
                    .any(|key| resource.properties.get(*key).is_some_and(|v| v.as_bool() == Some(true) || v == "true"));
                Ok(format!("{}-{logical}{}", self.service.stack_name(), if fifo { ".fifo" } else { "" }))
            }
        }
    }

    pub fn queue_url(&self, name: &str) -> String {
        names::queue_url(&self.endpoints.lambda_url(), names::ACCOUNT_ID, name)
    }

    /// Points execute-api URLs of the local APIs at the local servers.
    fn localize_url(&self, text: &str) -> String {
        if !text.contains(".execute-api.") {
            return text.to_string();
        }
        let mut out = text.to_string();
        for api in GENERATED_APIS {
            let id = api.local_id;
            for scheme in ["https://", "wss://"] {
                let prefix = format!("{scheme}{id}.execute-api.");
                while let Some(start) = out.find(&prefix) {
                    let after = start + prefix.len();
                    let host_end = out[after..].find('/').map(|i| after + i).unwrap_or(out.len());
                    let local = match api {
                        WEBSOCKET_API if scheme == "wss://" => self.endpoints.websocket_url(),
                        WEBSOCKET_API => self.endpoints.management_url(),
                        _ => self.endpoints.http_url(),
                    };
                    out.replace_range(start..host_end, &local);
                }
            }
        }
        out
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
