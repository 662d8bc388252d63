//! YAML text → a [`Node`] tree that remembers where every value was written.
//!
//! Owns: scalar typing (YAML 1.2 core schema, as js-yaml reads `serverless.yml`), anchors, aliases and `<<`
//! merge keys, and the CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, …), which become their long form
//! (`{"Ref": …}`, `{"Fn::GetAtt": […]}`) so the rest of the loader sees one shape.

use super::error::{ConfigError, Location};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Yaml;

/// One YAML value and the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(map) => map.get(key),
            NodeValue::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// CloudFormation functions that have a YAML short tag, by tag name.
const SHORT_TAGS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Join", "Fn::Join"),
    ("Sub", "Fn::Sub"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Base64", "Fn::Base64"),
    ("FindInMap", "Fn::FindInMap"),
    ("ImportValue", "Fn::ImportValue"),
    ("GetAZs", "Fn::GetAZs"),
    ("Cidr", "Fn::Cidr"),
];

/// Parses one YAML document. `file` is only used to label locations.
pub fn parse(text: &str, file: &Path) -> Result<Node, ConfigError> {
    let file: Arc<Path> = Arc::from(file);
    let mut builder =
        Builder { file: file.clone(), stack: Vec::new(), anchors: HashMap::new(), root: None, error: None };
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, false) {
        let mark = err.marker();
        let location = Location::new(file, mark.line(), mark.col() + 1);
        return Err(ConfigError::syntax(location, err.info()));
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Node { value: NodeValue::Map(IndexMap::new()), location: Location::new(file, 1, 1) }))
}

/// A collection under construction.
enum Frame {
    Seq {
        items: Vec<Node>,
        location: Location,
        anchor: usize,
        tag: Option<Tag>,
    },
    Map {
        entries: IndexMap<String, Node>,
        pending_key: Option<Node>,
        location: Location,
        anchor: usize,
        tag: Option<Tag>,
    },
}

struct Builder {
    file: Arc<Path>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<ConfigError>,
}

impl Builder {
    fn location(&self, mark: Marker) -> Location {
        Location::new(self.file.clone(), mark.line(), mark.col() + 1)
    }

    /// Places a finished value in its parent (or as the document root).
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    let key_text = scalar_key(&key);
                    if key_text == "<<" {
                        merge_into(entries, node);
                    } else {
                        entries.insert(key_text, node);
                    }
                }
            },
        }
    }

    fn fail(&mut self, err: ConfigError) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    /// Wraps a tagged value into its long CloudFormation form, or reports an unknown tag.
    fn apply_tag(&mut self, tag: Option<Tag>, node: Node) -> Node {
        let Some(tag) = tag else { return node };
        if tag.handle == "tag:yaml.org,2002:" {
            return node; // `!!str` and friends: the scalar typing below already honours quoting.
        }
        let name = tag.suffix.as_str();
        let Some((_, function)) = SHORT_TAGS.iter().find(|(short, _)| *short == name) else {
            let known: Vec<String> = SHORT_TAGS.iter().map(|(s, _)| format!("!{s}")).collect();
            self.fail(ConfigError::at(
                node.location.clone(),
                "",
                format!("unknown YAML tag `{}{}`; expected one of {}", tag.handle, name, known.join(", ")),
            ));
            return node;
        };
        let location = node.location.clone();
        let argument = if *function == "Fn::GetAtt" { split_get_att(node) } else { node };
        let mut map = IndexMap::new();
        map.insert(function.to_string(), argument);
        Node { value: NodeValue::Map(map), location }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let location = self.location(mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node { value: scalar_value(&text, style, tag.as_ref()), location };
                let node = self.apply_tag(tag, node);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor) {
                Some(node) => {
                    let node = node.clone();
                    self.push_value(node);
                }
                None => self.fail(ConfigError::syntax(location, "alias refers to an unknown anchor")),
            },
            Event::SequenceStart(anchor, tag) => {
                self.stack.push(Frame::Seq { items: Vec::new(), location, anchor, tag });
            }
            Event::MappingStart(anchor, tag) => {
                self.stack.push(Frame::Map { entries: IndexMap::new(), pending_key: None, location, anchor, tag });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, tag) = match self.stack.pop() {
                    Some(Frame::Seq { items, location, anchor, tag }) => {
                        (Node { value: NodeValue::Seq(items), location }, anchor, tag)
                    }
                    Some(Frame::Map { entries, location, anchor, tag, .. }) => {
                        (Node { value: NodeValue::Map(entries), location }, anchor, tag)
                    }
                    None => return,
                };
                let node = self.apply_tag(tag, node);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            _ => {}
        }
    }
}

/// Types a scalar the way js-yaml's default schema does: quoted scalars are strings, plain ones may be
/// null, booleans or numbers.
fn scalar_value(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> NodeValue {
    let explicit_str = tag.is_some_and(|t| t.handle == "tag:yaml.org,2002:" && t.suffix == "str");
    let is_cfn_tag = tag.is_some_and(|t| t.handle == "!");
    if style != TScalarStyle::Plain || explicit_str || is_cfn_tag {
        return NodeValue::String(text.to_string());
    }
    match Yaml::from_str(text) {
        Yaml::Null => NodeValue::Null,
        Yaml::Boolean(b) => NodeValue::Bool(b),
        Yaml::Integer(i) => NodeValue::Int(i),
        Yaml::Real(r) => r.parse::<f64>().map(NodeValue::Float).unwrap_or(NodeValue::String(text.to_string())),
        _ => NodeValue::String(text.to_string()),
    }
}

/// Map keys are strings in serverless.yml; other scalars are written as their text.
fn scalar_key(key: &Node) -> String {
    match &key.value {
        NodeValue::String(s) => s.clone(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => f.to_string(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Null => "null".to_string(),
        NodeValue::Seq(_) | NodeValue::Map(_) => format!("{:?}", key.value),
    }
}

/// `<<: *base` (or a list of them): keys already present win, as in YAML 1.1 merge.
fn merge_into(entries: &mut IndexMap<String, Node>, merged: Node) {
    let sources = match merged.value {
        NodeValue::Seq(items) => items,
        other => vec![Node { value: other, location: merged.location }],
    };
    for source in sources {
        if let NodeValue::Map(map) = source.value {
            for (key, value) in map {
                entries.entry(key).or_insert(value);
            }
        }
    }
}

/// `!GetAtt Resource.Attribute` → `["Resource", "Attribute"]`; the list form is kept as it is.
fn split_get_att(node: Node) -> Node {
    match &node.value {
        NodeValue::String(s) => match s.split_once('.') {
            Some((resource, attribute)) => {
                let part =
                    |text: &str| Node { value: NodeValue::String(text.to_string()), location: node.location.clone() };
                Node { value: NodeValue::Seq(vec![part(resource), part(attribute)]), location: node.location.clone() }
            }
            None => node,
        },
        _ => node,
    }
}
