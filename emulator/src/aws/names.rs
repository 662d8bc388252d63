//! AWS names, built here and nowhere else: the local account, the ARN of every kind of resource the emulator
//! knows, queue URLs and log groups. Every ARN is in the `aws` partition and account [`ACCOUNT_ID`].

/// The account id of every local ARN and queue URL (LocalStack's and moto's default too).
pub const ACCOUNT_ID: &str = "000000000000";

/// `arn:aws:lambda:<region>:<account>:function:<name>`. A `*` region matches any (the Invoke API's messages).
pub fn lambda_arn(region: &str, function_name: &str) -> String {
    format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}")
}

/// An account's root principal, as policies name it.
pub fn account_root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// A function URL's id (`<url-id>` in `https://<url-id>.lambda-url.<region>.on.aws`): 32 lower-case
/// characters, as AWS's are; locally the MD5 of the function's name, so it stays the same across starts.
pub fn function_url_id(function_name: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(function_name.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The domain a function URL has on AWS, which its events carry.
pub fn function_url_domain(url_id: &str, region: &str) -> String {
    format!("{url_id}.lambda-url.{region}.on.aws")
}

/// The ARN an authorizer's policy is evaluated against: `arn:aws:execute-api:<region>:<account>:<api
/// id>/<stage>/<VERB>/<path>`, the path as requested without its leading slash (API Gateway's `methodArn`, and an
/// HTTP API's `routeArn` with stage `$default`). The root path gives `…/GET/`.
pub fn execute_api_arn(region: &str, api_id: &str, stage: &str, method: &str, path: &str) -> String {
    format!("arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/{}", path.trim_start_matches('/'))
}

/// A WebSocket route's ARN, which a `$connect` authorizer's `methodArn` is: `…:<api id>/<stage>/<route key>`.
pub fn websocket_route_arn(region: &str, api_id: &str, stage: &str, route_key: &str) -> String {
    format!("arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api_id}/{stage}/{route_key}")
}

/// An EventBridge rule (a `schedule` event's rule).
pub fn event_rule_arn(region: &str, rule: &str) -> String {
    format!("arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule}")
}

/// An EventBridge Scheduler schedule of the default group.
pub fn scheduler_schedule_arn(region: &str, schedule: &str) -> String {
    format!("arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{schedule}")
}

/// The runtime version ARN `INIT_START` names; local runtimes are versioned `local`.
pub fn runtime_version_arn(region: &str) -> String {
    format!("arn:aws:lambda:{region}::runtime:local")
}

/// The CloudWatch Logs group Lambda writes a function's log to.
pub fn log_group(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

/// A queue of the local account.
pub fn queue_arn(region: &str, queue: &str) -> String {
    queue_arn_in(ACCOUNT_ID, region, queue)
}

/// `arn:aws:sqs:<region>:<account>:<queue>`.
pub fn queue_arn_in(account: &str, region: &str, queue: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{queue}")
}

/// A queue ARN's region, account and name; `None` for anything else.
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!region.is_empty() && !account.is_empty() && !name.is_empty()).then_some((region, account, name))
}

/// A queue's URL on the local SQS endpoint: `<endpoint>/<account>/<queue>`, the path shape of SQS's own URLs
/// (whose host names the region; locally the request's signature does).
pub fn queue_url(endpoint: &str, account: &str, queue: &str) -> String {
    format!("{endpoint}/{account}/{queue}")
}

/// A queue URL's (or path's) account and name: its last two path segments; `None` when it has fewer.
pub fn parse_queue_url(url: &str) -> Option<(&str, &str)> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, path)| path));
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let name = segments.next().filter(|s| !s.is_empty())?;
    let account = segments.next().filter(|s| is_account_id(s))?;
    Some((account, name))
}

/// Twelve digits, as every AWS account id is.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

pub fn table_arn(region: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}")
}

/// A table's stream ARN; `label` stands where AWS puts the stream's creation time.
pub fn table_stream_arn(region: &str, table: &str, label: &str) -> String {
    format!("{}/stream/{label}", table_arn(region, table))
}

pub fn topic_arn(region: &str, topic: &str) -> String {
    topic_arn_in(ACCOUNT_ID, region, topic)
}

/// `arn:aws:sns:<region>:<account>:<topic>`.
pub fn topic_arn_in(account: &str, region: &str, topic: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{topic}")
}

/// A topic ARN's region, account and name; `None` for anything else.
pub fn parse_topic_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:sns:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = !region.is_empty() && is_account_id(account) && !name.is_empty() && !name.contains(':');
    valid.then_some((region, account, name))
}

/// A subscription's ARN: its topic's ARN and an id (`arn:aws:sns:<region>:<account>:<topic>:<uuid>`).
pub fn subscription_arn(topic_arn: &str, id: &str) -> String {
    format!("{topic_arn}:{id}")
}

/// The topic ARN of a subscription ARN (everything before its last `:`).
pub fn topic_of_subscription(subscription_arn: &str) -> Option<&str> {
    let (topic, _) = subscription_arn.rsplit_once(':')?;
    parse_topic_arn(topic).map(|_| topic)
}

/// S3 bucket ARNs carry neither region nor account.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `AWS::StackId` of the local stack.
pub fn stack_id(region: &str, stack: &str) -> String {
    format!("arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack}/local")
}

/// The ARN given to a resource of a type the emulator does not model.
pub fn other_arn(region: &str, name: &str) -> String {
    format!("arn:aws:local:{region}:{ACCOUNT_ID}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_aws_shapes() {
        assert_eq!(lambda_arn("eu-north-1", "f"), "arn:aws:lambda:eu-north-1:000000000000:function:f");
        assert_eq!(queue_url("http://127.0.0.1:4002", ACCOUNT_ID, "q"), "http://127.0.0.1:4002/000000000000/q");
        assert_eq!(parse_queue_url("http://127.0.0.1:4002/000000000000/q"), Some((ACCOUNT_ID, "q")));
        assert_eq!(parse_queue_url("/111111111111/q/"), Some(("111111111111", "q")));
        assert_eq!(parse_queue_url("http://localhost:4002/q"), None);
        assert_eq!(parse_queue_arn("arn:aws:sqs:eu-north-1:000000000000:q"), Some(("eu-north-1", ACCOUNT_ID, "q")));
        assert_eq!(parse_queue_arn("arn:aws:sns:eu-north-1:000000000000:q"), None);
        assert_eq!(
            table_stream_arn("us-east-1", "t", "local"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/local"
        );
        assert_eq!(bucket_arn("b"), "arn:aws:s3:::b");
    }
}
