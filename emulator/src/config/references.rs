//! The syntax of Serverless variables in text: finding `${…}` references (and leaving CloudFormation's own
//! `${AWS::Region}` or `${Resource.Attr}` alone), splitting a reference into its alternatives, parsing
//! `source(argument):address`, and fallback literals. [`super::variables`] resolves what is found here.

use serde_json::Value;

/// A parsed `source:address` or `source(argument):address`.
pub struct Reference {
    pub source: String,
    pub argument: Option<String>,
    pub address: String,
}

impl Reference {
    pub fn parse(text: &str) -> Option<Self> {
        let name_end = text.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(text.len());
        if name_end == 0 {
            return None;
        }
        let source = text[..name_end].to_string();
        let mut rest = &text[name_end..];
        let mut argument = None;
        if let Some(inner) = rest.strip_prefix('(') {
            let close = inner.rfind(')')?;
            argument = Some(inner[..close].to_string());
            rest = &inner[close + 1..];
        }
        let address = match rest.strip_prefix(':') {
            Some(address) => address.trim().to_string(),
            None if argument.is_some() && rest.trim().is_empty() => String::new(),
            None => return None,
        };
        Some(Self { source, argument, address })
    }
}

/// Byte ranges `[start, end)` of the Serverless variables in `text`, outermost only. CloudFormation's
/// `${AWS::Region}`, `${Resource.Attr}` and `${!Literal}` are not Serverless variables and are skipped.
pub fn find_variables(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            if let Some(end) = matching_brace(bytes, i + 1) {
                if is_serverless_variable(&text[i + 2..end]) {
                    spans.push((i, end + 1));
                    i = end + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    spans
}

fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, byte) in bytes[open..].iter().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// `source:` or `source(…)` at the start, and not CloudFormation's `AWS::` pseudo parameters.
fn is_serverless_variable(inner: &str) -> bool {
    let inner = inner.trim_start();
    if inner.starts_with("${") {
        return true;
    }
    let name_end = inner.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(inner.len());
    if name_end == 0 {
        return false;
    }
    let rest = &inner[name_end..];
    (rest.starts_with(':') && !rest.starts_with("::")) || rest.starts_with('(')
}

/// Splits `a, 'b, c', ${d, e}` on the commas that separate alternatives.
pub fn split_alternatives(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{' | '(') => depth += 1,
            (None, '}' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// A fallback literal: `'text'`, `"text"`, a number, `true`, `false` or `null`.
pub fn literal(text: &str) -> Option<Value> {
    let quoted = |q: char| text.len() >= 2 && text.starts_with(q) && text.ends_with(q);
    if quoted('\'') || quoted('"') {
        return Some(Value::String(text[1..text.len() - 1].to_string()));
    }
    match text {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "null" => return Some(Value::Null),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
}
