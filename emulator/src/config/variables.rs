//! Serverless Framework v3 variables: `${self:…}`, `${opt:…}`, `${sls:…}`, `${env:…}`, `${param:…}`,
//! `${file(…):…}` and `${aws:…}`, with fallbacks (`${env:X, 'default'}`), nesting and interpolation.
//!
//! Owns the walk from a [`Node`] tree to a plain JSON value with every variable replaced. CloudFormation's own
//! `${…}` (inside `Fn::Sub`, such as `${AWS::Region}` or `${MyQueue.Arn}`) is left untouched, as Serverless does.

use super::error::{ConfigError, Location};
use super::references::{find_variables, literal, split_alternatives, Reference};
use super::yaml::{self, Node, NodeValue};
use super::LoadOptions;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The sources a variable may name, for error messages.
const SOURCES: &str = "self, opt, sls, env, param, file, aws, strToBool";
/// Sources that need a deployed AWS account; they can only be used with a fallback here.
const REMOTE_SOURCES: &[&str] = &["cf", "s3", "ssm", "secretsmanager"];

/// Resolves every variable in `root`.
pub fn resolve(root: &Node, options: &LoadOptions, service_dir: &Path) -> Result<Value, ConfigError> {
    let mut resolver = Resolver::new(root, options, service_dir);
    resolver.node(root, "")
}

/// The stage and region after `--stage`/`--region`, `provider.stage`/`provider.region` and the defaults.
pub fn stage_and_region(
    root: &Node,
    options: &LoadOptions,
    service_dir: &Path,
) -> Result<(String, String), ConfigError> {
    let mut resolver = Resolver::new(root, options, service_dir);
    Ok((resolver.stage()?, resolver.region()?))
}

struct Resolver<'a> {
    root: &'a Node,
    options: &'a LoadOptions,
    service_dir: &'a Path,
    /// Resolved values of strings that held variables, by key path.
    memo: HashMap<String, Value>,
    /// Key paths being resolved right now, to detect cycles.
    stack: Vec<String>,
    files: HashMap<PathBuf, Option<Node>>,
}

/// What one alternative of `${a, b, c}` produced.
enum Lookup {
    Found(Value),
    /// Not available; the text says why, for the error when no alternative is left.
    Missing(String),
}

impl<'a> Resolver<'a> {
    fn new(root: &'a Node, options: &'a LoadOptions, service_dir: &'a Path) -> Self {
        Self { root, options, service_dir, memo: HashMap::new(), stack: Vec::new(), files: HashMap::new() }
    }

    fn node(&mut self, node: &Node, path: &str) -> Result<Value, ConfigError> {
        Ok(match &node.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            NodeValue::String(s) => self.string(s, path, &node.location)?,
            NodeValue::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.node(item, &join_path(path, &i.to_string()))?);
                }
                Value::Array(out)
            }
            NodeValue::Map(entries) => {
                let mut out = Map::new();
                for (key, value) in entries {
                    out.insert(key.clone(), self.node(value, &join_path(path, key))?);
                }
                Value::Object(out)
            }
        })
    }

    fn string(&mut self, text: &str, path: &str, location: &Location) -> Result<Value, ConfigError> {
        if find_variables(text).is_empty() {
            return Ok(Value::String(text.to_string()));
        }
        if let Some(value) = self.memo.get(path) {
            return Ok(value.clone());
        }
        if let Some(start) = self.stack.iter().position(|p| p == path) {
            let mut chain: Vec<&str> = self.stack[start..].iter().map(String::as_str).collect();
            chain.push(path);
            return Err(ConfigError::at(
                location.clone(),
                path,
                format!("variable cycle: {}; break it by giving one of these a literal value", chain.join(" → ")),
            ));
        }
        self.stack.push(path.to_string());
        let result = self.interpolate(text, path, location);
        self.stack.pop();
        let value = result?;
        self.memo.insert(path.to_string(), value.clone());
        Ok(value)
    }

    /// Replaces the variables of one string. A string that is exactly one variable keeps the variable's type.
    fn interpolate(&mut self, text: &str, path: &str, location: &Location) -> Result<Value, ConfigError> {
        let spans = find_variables(text);
        if let [(start, end)] = spans[..] {
            if start == 0 && end == text.len() {
                return self.variable(&text[2..end - 1], path, location);
            }
        }
        let mut out = String::new();
        let mut cursor = 0;
        for (start, end) in spans {
            out.push_str(&text[cursor..start]);
            let value = self.variable(&text[start + 2..end - 1], path, location)?;
            match value {
                Value::String(s) => out.push_str(&s),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::Bool(b) => out.push_str(&b.to_string()),
                other => {
                    return Err(ConfigError::at(
                        location.clone(),
                        path,
                        format!(
                            "`{}` resolves to {}, which cannot be placed inside the string \"{text}\"; expected a string, number or boolean",
                            &text[start..end],
                            kind_of(&other)
                        ),
                    ))
                }
            }
            cursor = end;
        }
        out.push_str(&text[cursor..]);
        Ok(Value::String(out))
    }

    /// Resolves the inside of one `${…}`: its alternatives in order, the first one found wins.
    fn variable(&mut self, inner: &str, path: &str, location: &Location) -> Result<Value, ConfigError> {
        let mut reasons = Vec::new();
        for alternative in split_alternatives(inner) {
            match self.alternative(alternative.trim(), path, location)? {
                Lookup::Found(value) => return Ok(value),
                Lookup::Missing(reason) => reasons.push(reason),
            }
        }
        Err(ConfigError::at(
            location.clone(),
            path,
            format!(
                "cannot resolve `${{{inner}}}`: {}; give a fallback such as `${{{}, 'value'}}`",
                reasons.join("; "),
                inner.trim()
            ),
        ))
    }

    fn alternative(&mut self, text: &str, path: &str, location: &Location) -> Result<Lookup, ConfigError> {
        if let Some(literal) = literal(text) {
            return Ok(Lookup::Found(literal));
        }
        // A whole alternative that is itself a variable: `${opt:stage, ${self:provider.stage}}`.
        let spans = find_variables(text);
        if let [(0, end)] = spans[..] {
            if end == text.len() {
                return match self.variable(&text[2..end - 1], path, location) {
                    Ok(value) => Ok(Lookup::Found(value)),
                    Err(err) => Ok(Lookup::Missing(err.message)),
                };
            }
        }
        // Nested variables inside an address: `${self:custom.${sls:stage}.table}`.
        let expanded = if spans.is_empty() {
            text.to_string()
        } else {
            match self.interpolate(text, path, location)? {
                Value::String(s) => s,
                other => other.to_string(),
            }
        };
        let Some(reference) = Reference::parse(&expanded) else {
            return Err(ConfigError::at(
                location.clone(),
                path,
                format!("`{expanded}` is not a variable; expected `source:address` with a source among {SOURCES}, or a quoted literal"),
            ));
        };
        self.lookup(&reference, path, location)
    }

    fn lookup(&mut self, reference: &Reference, path: &str, location: &Location) -> Result<Lookup, ConfigError> {
        let address = reference.address.as_str();
        let missing = |what: String| Ok(Lookup::Missing(what));
        match reference.source.as_str() {
            "self" => match self.self_reference(address)? {
                Some(value) => Ok(Lookup::Found(value)),
                None => missing(format!("`{address}` is not set in this file")),
            },
            "opt" => match self.options.option(address) {
                Some(value) => Ok(Lookup::Found(Value::String(value))),
                None => missing(format!("option --{address} was not given")),
            },
            "sls" => match address {
                "stage" => Ok(Lookup::Found(Value::String(self.stage()?))),
                "instanceId" => Ok(Lookup::Found(Value::String(self.options.instance_id.clone()))),
                _ => Err(ConfigError::at(
                    location.clone(),
                    path,
                    format!("unknown `sls:{address}`; expected sls:stage or sls:instanceId"),
                )),
            },
            "env" => match (self.options.env)(address) {
                Some(value) => Ok(Lookup::Found(Value::String(value))),
                None => missing(format!("environment variable {address} is not set")),
            },
            "param" => match self.param(address)? {
                Some(value) => Ok(Lookup::Found(value)),
                None => missing(format!(
                    "parameter `{address}` is not set (params.{}.{address}, params.default.{address} or --param)",
                    self.stage()?
                )),
            },
            "file" => self.file(reference.argument.as_deref().unwrap_or(""), address, location),
            "aws" => match address {
                "region" => Ok(Lookup::Found(Value::String(self.region()?))),
                "accountId" => Ok(Lookup::Found(Value::String(crate::aws::ACCOUNT_ID.to_string()))),
                _ => missing(format!("`aws:{address}` is not available locally")),
            },
            // Serverless v3's `${strToBool(value)}`: "true" or "1", "false" or "0".
            "strToBool" => match reference.argument.as_deref().map(str::trim) {
                Some("true" | "1") => Ok(Lookup::Found(Value::Bool(true))),
                Some("false" | "0") => Ok(Lookup::Found(Value::Bool(false))),
                other => Err(ConfigError::at(
                    location.clone(),
                    path,
                    format!("`strToBool` expects \"true\", \"false\", \"1\" or \"0\", found {:?}", other.unwrap_or("")),
                )),
            },
            source if REMOTE_SOURCES.contains(&source) => {
                missing(format!("the `{source}` source reads a deployed AWS account, which is not available locally"))
            }
            source => Err(ConfigError::at(
                location.clone(),
                path,
                format!("unknown variable source `{source}`; expected one of {SOURCES}"),
            )),
        }
    }

    /// `${self:a.b.c}`: walks the file, resolving variables met on the way.
    fn self_reference(&mut self, address: &str) -> Result<Option<Value>, ConfigError> {
        let root = self.root;
        self.walk(root, "", address)
    }

    fn walk(&mut self, start: &Node, start_path: &str, address: &str) -> Result<Option<Value>, ConfigError> {
        let segments: Vec<&str> = address.split('.').filter(|s| !s.is_empty()).collect();
        let mut node = start;
        let mut path = start_path.to_string();
        for (i, segment) in segments.iter().enumerate() {
            if let NodeValue::String(text) = &node.value {
                if !find_variables(text).is_empty() {
                    // The value here comes from a variable: resolve it, then keep walking in the result.
                    let value = self.string(text, &path, &node.location)?;
                    return Ok(walk_value(&value, &segments[i..]).cloned());
                }
            }
            match node.get(segment) {
                Some(child) => node = child,
                None => return Ok(None),
            }
            path = join_path(&path, segment);
        }
        self.node(node, &path).map(Some)
    }

    fn param(&mut self, name: &str) -> Result<Option<Value>, ConfigError> {
        if let Some(value) = self.options.params.get(name) {
            return Ok(Some(Value::String(value.clone())));
        }
        let stage = self.stage()?;
        let root = self.root;
        for scope in [stage.as_str(), "default"] {
            if let Some(value) = self.walk(root, "", &format!("params.{scope}.{name}"))? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    fn file(&mut self, argument: &str, address: &str, location: &Location) -> Result<Lookup, ConfigError> {
        let relative = argument.trim().trim_matches(|c| c == '\'' || c == '"');
        let full = self.service_dir.join(relative);
        if !self.files.contains_key(&full) {
            let loaded = load_file(&full, location)?;
            self.files.insert(full.clone(), loaded);
        }
        let Some(Some(node)) = self.files.get(&full).cloned() else {
            return Ok(Lookup::Missing(format!("file {} does not exist", full.display())));
        };
        let prefix = format!("file({relative})");
        match self.walk(&node, &prefix, address)? {
            Some(value) => Ok(Lookup::Found(value)),
            None => Ok(Lookup::Missing(format!("`{address}` is not set in {relative}"))),
        }
    }

    fn stage(&mut self) -> Result<String, ConfigError> {
        self.setting("stage", "provider.stage", "dev")
    }

    fn region(&mut self) -> Result<String, ConfigError> {
        self.setting("region", "provider.region", "us-east-1")
    }

    /// A CLI option, else a key of this file, else the Serverless default.
    fn setting(&mut self, option: &str, key: &str, default: &str) -> Result<String, ConfigError> {
        if let Some(value) = self.options.option(option) {
            return Ok(value);
        }
        match self.self_reference(key)? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Null) | None => Ok(default.to_string()),
            Some(other) => Err(ConfigError::at_path(key, format!("expected a string, found {}", kind_of(&other)))),
        }
    }
}

fn walk_value<'v>(value: &'v Value, segments: &[&str]) -> Option<&'v Value> {
    segments.iter().try_fold(value, |current, segment| match current {
        Value::Object(map) => map.get(*segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Reads a file named by `${file(…)}`; `None` when it does not exist (so a fallback can apply).
fn load_file(path: &Path, location: &Location) -> Result<Option<Node>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(ConfigError::at(location.clone(), "", format!("cannot read {}: {err}", path.display())))
        }
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("yml" | "yaml") => yaml::parse(&text, path).map(Some),
        Some("json") => {
            let value: Value = serde_json::from_str(&text).map_err(|err| {
                ConfigError::file(path, format!("invalid JSON at line {} column {}: {err}", err.line(), err.column()))
            })?;
            let location = Location::new(std::sync::Arc::from(path), 1, 1);
            Ok(Some(node_from_json(value, &location)))
        }
        _ => Err(ConfigError::at(
            location.clone(),
            "",
            format!(
                "${{file({})}}: only .yml, .yaml and .json files can be read; JavaScript files are not evaluated",
                path.display()
            ),
        )),
    }
}

fn node_from_json(value: Value, location: &Location) -> Node {
    let value = match value {
        Value::Null => NodeValue::Null,
        Value::Bool(b) => NodeValue::Bool(b),
        Value::Number(n) => {
            n.as_i64().map(NodeValue::Int).unwrap_or_else(|| NodeValue::Float(n.as_f64().unwrap_or(0.0)))
        }
        Value::String(s) => NodeValue::String(s),
        Value::Array(items) => NodeValue::Seq(items.into_iter().map(|v| node_from_json(v, location)).collect()),
        Value::Object(map) => NodeValue::Map(map.into_iter().map(|(k, v)| (k, node_from_json(v, location))).collect()),
    };
    Node { value, location: location.clone() }
}

pub fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// A value as text: a string as itself, anything else as its JSON (a number written for a key value is its digits).
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
