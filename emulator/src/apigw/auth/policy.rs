//! The IAM policy a Lambda authorizer returns, evaluated as API Gateway evaluates it against the request's method
//! (or route) ARN: any matching `Deny` wins, else a matching `Allow` grants, else the request is implicitly denied.
//! `Resource` and `Action` take IAM's wildcards (`*` any run of characters, `/` included; `?` one character),
//! matched against the whole ARN. Sources: API Gateway developer guide, "Output from an API Gateway Lambda
//! authorizer", and IAM's "Policy evaluation logic".

use serde_json::Value;

/// The outcome of a policy for one ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    /// A `Deny` statement matched.
    ExplicitDeny,
    /// No statement matched.
    ImplicitDeny,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

impl Policy {
    /// Reads a `policyDocument`; the message says what is malformed (API Gateway answers such a document with
    /// its authorizer configuration error).
    pub fn parse(document: &Value) -> Result<Self, String> {
        let statements = match document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(single @ Value::Object(_)) => vec![single],
            Some(other) => return Err(format!("policyDocument.Statement must be a list of statements, found {other}")),
            None => return Err("policyDocument has no Statement".to_string()),
        };
        let statements = statements.into_iter().map(Statement::parse).collect::<Result<_, _>>()?;
        Ok(Self { statements })
    }

    pub fn evaluate(&self, arn: &str) -> Effect {
        let matching = self.statements.iter().filter(|s| s.covers(arn));
        let mut effect = Effect::ImplicitDeny;
        for statement in matching {
            if !statement.allow {
                return Effect::ExplicitDeny;
            }
            effect = Effect::Allow;
        }
        effect
    }
}

impl Statement {
    fn parse(value: &Value) -> Result<Self, String> {
        let allow = match value.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            other => return Err(format!("a statement's Effect must be Allow or Deny, found {other:?}")),
        };
        let strings = |key: &str| -> Result<Vec<String>, String> {
            match value.get(key) {
                Some(Value::String(one)) => Ok(vec![one.clone()]),
                Some(Value::Array(many)) => many
                    .iter()
                    .map(|v| v.as_str().map(String::from).ok_or_else(|| format!("{key} entries must be strings")))
                    .collect(),
                _ => Err(format!("a statement needs {key} (a string or a list of strings)")),
            }
        };
        Ok(Self { allow, actions: strings("Action")?, resources: strings("Resource")? })
    }

    fn covers(&self, arn: &str) -> bool {
        let invokes =
            self.actions.iter().any(|action| wildcard_match(&action.to_ascii_lowercase(), "execute-api:invoke"));
        invokes && self.resources.iter().any(|resource| wildcard_match(resource, arn))
    }
}

/// IAM's wildcard match of the whole `text`: `*` is any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently stands for the end of.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:000000000000:localrest/dev/GET/tasks/42";

    fn policy(statements: Value) -> Policy {
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
    }

    #[test]
    fn wildcards_span_slashes_and_match_the_whole_arn() {
        assert!(wildcard_match("arn:aws:execute-api:*:*:localrest/dev/*", ARN));
        assert!(wildcard_match("*", ARN));
        assert!(wildcard_match("arn:aws:execute-api:eu-west-1:000000000000:localrest/dev/GET/tasks/??", ARN));
        assert!(!wildcard_match("arn:aws:execute-api:eu-west-1:000000000000:localrest/dev/GET/tasks", ARN));
        assert!(!wildcard_match("arn:aws:execute-api:*:*:localrest/dev/POST/*", ARN));
        assert!(wildcard_match("a*b*c", "a-b-b-c") && !wildcard_match("a*b*c", "a-b-b-d"));
    }

    #[test]
    fn an_explicit_deny_wins_and_silence_denies() {
        let allow_all = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"});
        assert_eq!(policy(json!([allow_all])).evaluate(ARN), Effect::Allow);
        let deny_tasks = json!({"Effect": "Deny", "Action": "execute-api:*", "Resource": ["arn:*/GET/tasks/*"]});
        assert_eq!(policy(json!([allow_all, deny_tasks])).evaluate(ARN), Effect::ExplicitDeny);
        let other = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:*/POST/*"});
        assert_eq!(policy(json!([other])).evaluate(ARN), Effect::ImplicitDeny);
        let wrong_action = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
        assert_eq!(policy(json!([wrong_action])).evaluate(ARN), Effect::ImplicitDeny);
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert!(Policy::parse(&json!({})).is_err());
        assert!(Policy::parse(&json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})).is_err());
        assert!(Policy::parse(&json!({"Statement": [{"Effect": "Allow", "Action": "*"}]})).is_err());
    }
}
