//! SNS's wire protocol, the AWS query protocol (botocore's SNS model: `"protocol":"query"`): form-encoded
//! `Action=…&Version=2010-03-31` parameters, XML responses in `<{Action}Response><{Action}Result>`, errors in
//! `<ErrorResponse>`. Maps are `Attributes.entry.N.key/value`, lists `Tags.member.N`, message attributes
//! `MessageAttributes.entry.N.Name` and `.Value.DataType|StringValue|BinaryValue`.

use super::error::{ErrorCode, SnsError};
use super::publication::Publication;
use super::requests::{Request, Response};
use crate::aws::query::{element, Form};
use crate::sqs::message::AttributeValue;
use base64::Engine;
use std::collections::BTreeMap;
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/xml";
const NAMESPACE: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// The actions of the SNS API this endpoint serves; a query request naming one of them is for SNS.
pub const ACTIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

pub fn parse(form: &Form) -> Result<Request, SnsError> {
    let action = form.action().ok_or_else(|| SnsError::missing("Action"))?;
    let required = |key: &str| form.get(key).ok_or_else(|| SnsError::missing(key));
    let attributes = |prefix: &str| form.entries(&format!("{prefix}.entry"), "key", "value");
    let tags = || form.entries("Tags.member", "Key", "Value");
    Ok(match action {
        "CreateTopic" => {
            Request::CreateTopic { name: required("Name")?, attributes: attributes("Attributes"), tags: tags() }
        }
        "DeleteTopic" => Request::DeleteTopic { topic_arn: required("TopicArn")? },
        "ListTopics" => Request::ListTopics { next_token: form.get("NextToken") },
        "GetTopicAttributes" => Request::GetTopicAttributes { topic_arn: required("TopicArn")? },
        "SetTopicAttributes" => Request::SetTopicAttributes {
            topic_arn: required("TopicArn")?,
            name: required("AttributeName")?,
            value: form.get("AttributeValue").unwrap_or_default(),
        },
        "Subscribe" => Request::Subscribe {
            topic_arn: required("TopicArn")?,
            protocol: required("Protocol")?,
            endpoint: form.get("Endpoint").unwrap_or_default(),
            attributes: attributes("Attributes"),
            return_arn: form.get("ReturnSubscriptionArn").is_some_and(|v| v == "true"),
        },
        "ConfirmSubscription" => {
            Request::ConfirmSubscription { topic_arn: required("TopicArn")?, token: required("Token")? }
        }
        "Unsubscribe" => Request::Unsubscribe { subscription_arn: required("SubscriptionArn")? },
        "ListSubscriptions" => Request::ListSubscriptions { next_token: form.get("NextToken") },
        "ListSubscriptionsByTopic" => {
            Request::ListSubscriptionsByTopic { topic_arn: required("TopicArn")?, next_token: form.get("NextToken") }
        }
        "GetSubscriptionAttributes" => {
            Request::GetSubscriptionAttributes { subscription_arn: required("SubscriptionArn")? }
        }
        "SetSubscriptionAttributes" => Request::SetSubscriptionAttributes {
            subscription_arn: required("SubscriptionArn")?,
            name: required("AttributeName")?,
            value: form.get("AttributeValue").unwrap_or_default(),
        },
        "Publish" => {
            if form.get("PhoneNumber").is_some() && form.get("TopicArn").is_none() && form.get("TargetArn").is_none() {
                return Err(SnsError::invalid(
                    "PhoneNumber Reason: SMS messages are not sent locally; publish to a topic",
                ));
            }
            let topic_arn =
                form.get("TopicArn").or_else(|| form.get("TargetArn")).ok_or_else(|| SnsError::missing("TopicArn"))?;
            Request::Publish { topic_arn, publication: publication(form, "")? }
        }
        "PublishBatch" => {
            let entries = (1..)
                .map_while(|i| form.get(&format!("PublishBatchRequestEntries.member.{i}.Id")).map(|id| (i, id)))
                .map(|(i, id)| Ok((id, publication(form, &format!("PublishBatchRequestEntries.member.{i}."))?)))
                .collect::<Result<_, SnsError>>()?;
            Request::PublishBatch { topic_arn: required("TopicArn")?, entries }
        }
        "TagResource" => Request::TagResource { arn: required("ResourceArn")?, tags: tags() },
        "UntagResource" => Request::UntagResource { arn: required("ResourceArn")?, keys: form.list("TagKeys.member") },
        "ListTagsForResource" => Request::ListTagsForResource { arn: required("ResourceArn")? },
        other => {
            return Err(SnsError::new(
                ErrorCode::InvalidAction,
                format!("The action {other} is not valid for this endpoint."),
            ))
        }
    })
}

/// A Publish's (or a batch entry's, under `prefix`) message.
fn publication(form: &Form, prefix: &str) -> Result<Publication, SnsError> {
    let field = |name: &str| form.get(&format!("{prefix}{name}"));
    let structured = match field("MessageStructure").as_deref() {
        None => false,
        Some("json") => true,
        Some(_) => return Err(SnsError::invalid("MessageStructure")),
    };
    Ok(Publication {
        message: field("Message").ok_or_else(|| SnsError::missing("Message"))?,
        subject: field("Subject"),
        structured,
        attributes: message_attributes(form, &format!("{prefix}MessageAttributes.entry"))?,
        group_id: field("MessageGroupId"),
        deduplication_id: field("MessageDeduplicationId"),
    })
}

fn message_attributes(form: &Form, prefix: &str) -> Result<BTreeMap<String, AttributeValue>, SnsError> {
    let mut out = BTreeMap::new();
    for i in 1.. {
        let Some(name) = form.get(&format!("{prefix}.{i}.Name")) else { break };
        let value = |field: &str| form.get(&format!("{prefix}.{i}.Value.{field}"));
        let binary = match value("BinaryValue") {
            Some(b64) => Some(base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| {
                SnsError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("The BinaryValue of message attribute '{name}' is not base64"),
                )
            })?),
            None => None,
        };
        out.insert(
            name,
            AttributeValue { data_type: value("DataType").unwrap_or_default(), string: value("StringValue"), binary },
        );
    }
    Ok(out)
}

/// Shapes a successful response.
pub fn response_body(action: &str, response: &Response, request_id: &str) -> String {
    let mut result = String::new();
    match response {
        Response::Empty => {}
        Response::TopicArn(arn) => element(&mut result, "TopicArn", arn),
        Response::Topics(page) => {
            result.push_str("<Topics>");
            for arn in &page.items {
                result.push_str("<member>");
                element(&mut result, "TopicArn", arn);
                result.push_str("</member>");
            }
            result.push_str("</Topics>");
            next_token(&mut result, &page.next_token);
        }
        Response::Attributes(attributes) => {
            result.push_str("<Attributes>");
            for (key, value) in attributes {
                result.push_str("<entry>");
                element(&mut result, "key", key);
                element(&mut result, "value", value);
                result.push_str("</entry>");
            }
            result.push_str("</Attributes>");
        }
        Response::SubscriptionArn(arn) => element(&mut result, "SubscriptionArn", arn),
        Response::Subscriptions(page) => {
            result.push_str("<Subscriptions>");
            for subscription in &page.items {
                result.push_str("<member>");
                element(&mut result, "TopicArn", &subscription.topic_arn);
                element(&mut result, "Protocol", subscription.protocol.name());
                element(&mut result, "SubscriptionArn", subscription.listed_arn());
                element(&mut result, "Owner", &subscription.account);
                element(&mut result, "Endpoint", &subscription.endpoint);
                result.push_str("</member>");
            }
            result.push_str("</Subscriptions>");
            next_token(&mut result, &page.next_token);
        }
        Response::Published(published) => {
            element(&mut result, "MessageId", &published.message_id);
            if let Some(sequence) = &published.sequence_number {
                element(&mut result, "SequenceNumber", sequence);
            }
        }
        Response::PublishedBatch { successful, failed } => {
            result.push_str("<Successful>");
            for (id, published) in successful {
                result.push_str("<member>");
                element(&mut result, "Id", id);
                element(&mut result, "MessageId", &published.message_id);
                if let Some(sequence) = &published.sequence_number {
                    element(&mut result, "SequenceNumber", sequence);
                }
                result.push_str("</member>");
            }
            result.push_str("</Successful><Failed>");
            for (id, error) in failed {
                result.push_str("<member>");
                element(&mut result, "Id", id);
                element(&mut result, "Code", error.code.name());
                element(&mut result, "Message", &error.message);
                element(&mut result, "SenderFault", "true");
                result.push_str("</member>");
            }
            result.push_str("</Failed>");
        }
        Response::Tags(tags) => {
            result.push_str("<Tags>");
            for (key, value) in tags {
                result.push_str("<member>");
                element(&mut result, "Key", key);
                element(&mut result, "Value", value);
                result.push_str("</member>");
            }
            result.push_str("</Tags>");
        }
    }
    // Operations without output have no Result element, except the tagging ones (their model has a wrapper).
    let wrapped = !matches!(response, Response::Empty) || action.ends_with("Resource");
    let result = if wrapped { format!("<{action}Result>{result}</{action}Result>") } else { String::new() };
    format!(
        "<?xml version=\"1.0\"?><{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn next_token(out: &mut String, token: &Option<String>) {
    if let Some(token) = token {
        element(out, "NextToken", token);
    }
}

pub fn error_body(error: &SnsError, request_id: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type>");
    element(&mut out, "Code", error.code.name());
    element(&mut out, "Message", &error.message);
    let _ = write!(out, "</Error><RequestId>{request_id}</RequestId></ErrorResponse>");
    out
}
