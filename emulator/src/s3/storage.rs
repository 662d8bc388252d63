//! The S3 operations: s3s-fs keeps buckets and objects (multipart uploads included) as files; this wrapper adds
//! what it leaves out: bucket CORS and notification configurations (kept in [`Buckets`]), S3's answers where
//! s3s-fs differs from S3 (a bucket you already own, deleting a bucket that is not empty), and an event
//! notification after each object change.

use super::buckets::Buckets;
use super::cors::CorsRule;
use super::events::{NotificationRule, ObjectChange, Target};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use s3s_fs::FileSystem;
use std::sync::Arc;

pub struct LocalS3 {
    files: FileSystem,
    buckets: Arc<Buckets>,
}

impl LocalS3 {
    pub fn new(buckets: Arc<Buckets>) -> std::io::Result<Self> {
        let files = FileSystem::new(buckets.root()).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        Ok(Self { files, buckets })
    }

    fn no_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.buckets.exists(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"))
        }
    }

    /// Notifies a created object, reading its size from disk.
    fn created(
        &self,
        credentials: Option<&s3s::auth::Credentials>,
        bucket: &str,
        key: &str,
        event: &'static str,
        etag: Option<&ETag>,
    ) {
        let size = std::fs::metadata(self.buckets.root().join(bucket).join(key)).map(|m| m.len()).ok();
        self.buckets.notify(&ObjectChange {
            bucket: bucket.to_string(),
            key: key.to_string(),
            event,
            size: size.or(Some(0)),
            etag: Some(etag.map(|e| e.value().to_string()).unwrap_or_default()),
            principal: principal(credentials),
            request_id: uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        });
    }

    fn removed(&self, credentials: Option<&s3s::auth::Credentials>, bucket: &str, key: &str) {
        self.buckets.notify(&ObjectChange {
            bucket: bucket.to_string(),
            key: key.to_string(),
            event: "ObjectRemoved:Delete",
            size: None,
            etag: None,
            principal: principal(credentials),
            request_id: uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        });
    }

    fn object_exists(&self, bucket: &str, key: &str) -> bool {
        self.buckets.root().join(bucket).join(key).is_file()
    }
}

/// Whether a bucket's folder holds any object (folders left by deleted keys do not count).
fn holds_objects(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            holds_objects(&path)
        } else {
            true
        }
    })
}

fn principal(credentials: Option<&s3s::auth::Credentials>) -> String {
    format!("AWS:{}", credentials.map_or("anonymous", |c| c.access_key.as_str()))
}

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        if self.buckets.exists(&req.input.bucket) {
            return Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it."
            ));
        }
        self.files.create_bucket(req).await
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        self.no_bucket(&bucket)?;
        if holds_objects(&self.buckets.root().join(&bucket)) {
            return Err(s3_error!(BucketNotEmpty, "The bucket you tried to delete is not empty"));
        }
        let answer = self.files.delete_bucket(req).await?;
        self.buckets.forget(&bucket);
        Ok(answer)
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.files.head_bucket(req).await
    }

    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        self.files.list_buckets(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.files.get_bucket_location(req).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key, credentials) = (req.input.bucket.clone(), req.input.key.clone(), req.credentials.clone());
        // s3s hands a browser's form upload (POST Object) to put_object too; S3 names its event Post.
        let event = if req.method == hyper::Method::POST { "ObjectCreated:Post" } else { "ObjectCreated:Put" };
        self.no_bucket(&bucket)?;
        let answer = self.files.put_object(req).await?;
        if !key.ends_with('/') {
            self.created(credentials.as_ref(), &bucket, &key, event, answer.output.e_tag.as_ref());
        }
        Ok(answer)
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let (bucket, key, credentials) = (req.input.bucket.clone(), req.input.key.clone(), req.credentials.clone());
        self.no_bucket(&bucket)?;
        let answer = self.files.copy_object(req).await?;
        let etag = answer.output.copy_object_result.as_ref().and_then(|r| r.e_tag.as_ref());
        self.created(credentials.as_ref(), &bucket, &key, "ObjectCreated:Copy", etag);
        Ok(answer)
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.no_bucket(&req.input.bucket)?;
        self.files.get_object(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.no_bucket(&req.input.bucket)?;
        self.files.head_object(req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key, credentials) = (req.input.bucket.clone(), req.input.key.clone(), req.credentials.clone());
        let existed = self.object_exists(&bucket, &key);
        let answer = self.files.delete_object(req).await?;
        if existed {
            self.removed(credentials.as_ref(), &bucket, &key);
        }
        Ok(answer)
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let (bucket, credentials) = (req.input.bucket.clone(), req.credentials.clone());
        self.no_bucket(&bucket)?;
        let existed: Vec<String> = req
            .input
            .delete
            .objects
            .iter()
            .map(|o| o.key.clone())
            .filter(|key| self.object_exists(&bucket, key))
            .collect();
        let answer = self.files.delete_objects(req).await?;
        for key in existed.iter().filter(|key| !self.object_exists(&bucket, key)) {
            self.removed(credentials.as_ref(), &bucket, key);
        }
        Ok(answer)
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        self.no_bucket(&req.input.bucket)?;
        self.files.list_objects(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.no_bucket(&req.input.bucket)?;
        self.files.list_objects_v2(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.no_bucket(&req.input.bucket)?;
        self.files.create_multipart_upload(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.files.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.files.upload_part_copy(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.files.list_parts(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key, credentials) = (req.input.bucket.clone(), req.input.key.clone(), req.credentials.clone());
        let answer = self.files.complete_multipart_upload(req).await?;
        let event = "ObjectCreated:CompleteMultipartUpload";
        self.created(credentials.as_ref(), &bucket, &key, event, answer.output.e_tag.as_ref());
        Ok(answer)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.files.abort_multipart_upload(req).await
    }

    async fn put_bucket_cors(&self, req: S3Request<PutBucketCorsInput>) -> S3Result<S3Response<PutBucketCorsOutput>> {
        self.no_bucket(&req.input.bucket)?;
        let rules = req.input.cors_configuration.cors_rules.into_iter().map(cors_rule).collect();
        self.buckets.set_cors(&req.input.bucket, rules);
        Ok(S3Response::new(PutBucketCorsOutput::default()))
    }

    async fn get_bucket_cors(&self, req: S3Request<GetBucketCorsInput>) -> S3Result<S3Response<GetBucketCorsOutput>> {
        self.no_bucket(&req.input.bucket)?;
        let rules = self.buckets.settings(&req.input.bucket).cors;
        if rules.is_empty() {
            return Err(s3_error!(NoSuchCORSConfiguration, "The CORS configuration does not exist"));
        }
        let rules = rules.into_iter().map(cors_dto).collect();
        Ok(S3Response::new(GetBucketCorsOutput { cors_rules: Some(rules) }))
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
        self.no_bucket(&req.input.bucket)?;
        self.buckets.set_cors(&req.input.bucket, Vec::new());
        Ok(S3Response::new(DeleteBucketCorsOutput::default()))
    }

    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        self.no_bucket(&req.input.bucket)?;
        let rules = notification_rules(req.input.notification_configuration)?;
        self.buckets.set_notifications(&req.input.bucket, rules);
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput::default()))
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        self.no_bucket(&req.input.bucket)?;
        let rules = self.buckets.settings(&req.input.bucket).notifications;
        let mut output = GetBucketNotificationConfigurationOutput::default();
        let (mut functions, mut queues, mut topics) = (Vec::new(), Vec::new(), Vec::new());
        for rule in rules {
            let (events, filter, id) = (
                rule.events.into_iter().map(Event::from).collect(),
                key_filter(rule.prefix, rule.suffix),
                Some(rule.id),
            );
            match rule.target {
                Target::Function(arn) => {
                    functions.push(LambdaFunctionConfiguration { events, filter, id, lambda_function_arn: arn })
                }
                Target::Queue(arn) => queues.push(QueueConfiguration { events, filter, id, queue_arn: arn }),
                Target::Topic(arn) => topics.push(TopicConfiguration { events, filter, id, topic_arn: arn }),
            }
        }
        output.lambda_function_configurations = (!functions.is_empty()).then_some(functions);
        output.queue_configurations = (!queues.is_empty()).then_some(queues);
        output.topic_configurations = (!topics.is_empty()).then_some(topics);
        Ok(S3Response::new(output))
    }
}

fn cors_rule(rule: CORSRule) -> CorsRule {
    CorsRule {
        id: rule.id,
        allowed_origins: rule.allowed_origins,
        allowed_methods: rule.allowed_methods,
        allowed_headers: rule.allowed_headers.unwrap_or_default(),
        expose_headers: rule.expose_headers.unwrap_or_default(),
        max_age_seconds: rule.max_age_seconds,
    }
}

fn cors_dto(rule: CorsRule) -> CORSRule {
    CORSRule {
        id: rule.id,
        allowed_origins: rule.allowed_origins,
        allowed_methods: rule.allowed_methods,
        allowed_headers: (!rule.allowed_headers.is_empty()).then_some(rule.allowed_headers),
        expose_headers: (!rule.expose_headers.is_empty()).then_some(rule.expose_headers),
        max_age_seconds: rule.max_age_seconds,
    }
}

fn key_filter(prefix: Option<String>, suffix: Option<String>) -> Option<NotificationConfigurationFilter> {
    // S3 shows the rule names capitalised, whatever case they were set in.
    let rules: Vec<FilterRule> = [("Prefix", prefix), ("Suffix", suffix)]
        .into_iter()
        .filter_map(|(name, value)| {
            Some(FilterRule { name: Some(FilterRuleName::from(name.to_string())), value: Some(value?) })
        })
        .collect();
    (!rules.is_empty())
        .then_some(NotificationConfigurationFilter { key: Some(S3KeyFilter { filter_rules: Some(rules) }) })
}

/// The rules of a PutBucketNotificationConfiguration, checked as S3 checks them: at most one prefix and one suffix
/// rule per configuration.
fn notification_rules(configuration: NotificationConfiguration) -> S3Result<Vec<NotificationRule>> {
    let mut rules = Vec::new();
    let mut add = |id: Option<String>,
                   events: Vec<Event>,
                   filter: Option<NotificationConfigurationFilter>,
                   target: Target|
     -> S3Result<()> {
        let (prefix, suffix) = prefix_and_suffix(filter)?;
        let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        rules.push(NotificationRule {
            id,
            events: events.into_iter().map(String::from).collect(),
            prefix,
            suffix,
            target,
        });
        Ok(())
    };
    for c in configuration.lambda_function_configurations.unwrap_or_default() {
        add(c.id, c.events, c.filter, Target::Function(c.lambda_function_arn))?;
    }
    for c in configuration.queue_configurations.unwrap_or_default() {
        add(c.id, c.events, c.filter, Target::Queue(c.queue_arn))?;
    }
    for c in configuration.topic_configurations.unwrap_or_default() {
        add(c.id, c.events, c.filter, Target::Topic(c.topic_arn))?;
    }
    Ok(rules)
}

fn prefix_and_suffix(filter: Option<NotificationConfigurationFilter>) -> S3Result<(Option<String>, Option<String>)> {
    let rules = filter.and_then(|f| f.key).and_then(|k| k.filter_rules).unwrap_or_default();
    let (mut prefix, mut suffix) = (None, None);
    for rule in rules {
        let name = rule.name.as_ref().map(|n| n.as_str().to_ascii_lowercase()).unwrap_or_default();
        let slot = match name.as_str() {
            "prefix" => &mut prefix,
            "suffix" => &mut suffix,
            _ => return Err(s3_error!(InvalidArgument, "filter rule name must be either prefix or suffix")),
        };
        if slot.replace(rule.value.unwrap_or_default()).is_some() {
            return Err(s3_error!(InvalidArgument, "Cannot specify more than one {name} rule in a filter."));
        }
    }
    Ok((prefix, suffix))
}
