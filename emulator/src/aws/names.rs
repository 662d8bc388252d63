//! AWS names, built here and nowhere else: the local account, the ARN of every kind of resource the emulator
//! knows, queue URLs and log groups. Every ARN is in the `aws` partition and account [`ACCOUNT_ID`].

/// The account id of every local ARN and queue URL (LocalStack's and moto's default too).
pub const ACCOUNT_ID: &str = "000000000000";

/// `arn:aws:lambda:<region>:<account>:function:<name>`. A `*` region matches any (the Invoke API's messages).
pub fn lambda_arn(region: &str, function_name: &str) -> String {
    format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}")
}

/// The CloudWatch Logs group Lambda writes a function's log to.
pub fn log_group(function_name: &str) -> String {
    format!("/aws/lambda/{function_name}")
}

pub fn queue_arn(region: &str, queue: &str) -> String {
    format!("arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue}")
}

/// A queue's URL on the local SQS endpoint: `<endpoint>/<account>/<queue>`, the path shape of SQS's own URLs.
pub fn queue_url(endpoint: &str, queue: &str) -> String {
    format!("{endpoint}{}{queue}", queue_path_prefix())
}

/// The path every queue URL starts with (`/000000000000/`).
pub fn queue_path_prefix() -> String {
    format!("/{ACCOUNT_ID}/")
}

pub fn table_arn(region: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}")
}

/// A table's stream ARN; `label` stands where AWS puts the stream's creation time.
pub fn table_stream_arn(region: &str, table: &str, label: &str) -> String {
    format!("{}/stream/{label}", table_arn(region, table))
}

pub fn topic_arn(region: &str, topic: &str) -> String {
    format!("arn:aws:sns:{region}:{ACCOUNT_ID}:{topic}")
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
        assert_eq!(queue_url("http://127.0.0.1:4002", "q"), "http://127.0.0.1:4002/000000000000/q");
        assert_eq!(
            table_stream_arn("us-east-1", "t", "local"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/local"
        );
        assert_eq!(bucket_arn("b"), "arn:aws:s3:::b");
    }
}
