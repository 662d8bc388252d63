//! Queue tags: TagQueue and UntagQueue on [`Sqs`], and SQS's limits on tags (also checked by CreateQueue and by
//! `serverless.yml`'s `Tags`).

use super::error::SqsError;
use super::queue::Queue;
use super::service::Sqs;
use std::collections::BTreeMap;

impl Sqs {
    /// TagQueue: adds or overwrites tags.
    pub fn tag_queue(&self, queue: &Queue, tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
        if tags.is_empty() {
            return Err(SqsError::missing("Tags"));
        }
        queue.change_tags(|current| {
            current.extend(tags.clone());
            check_tags(current).map_err(|err| named_queue(err, &queue.name))
        })?;
        self.mark_unsaved();
        Ok(())
    }

    /// UntagQueue: removes the tags with these keys (unknown keys are ignored, as on SQS).
    pub fn untag_queue(&self, queue: &Queue, keys: &[String]) -> Result<(), SqsError> {
        if keys.is_empty() {
            return Err(SqsError::missing("TagKeys"));
        }
        queue.change_tags(|current| {
            keys.iter().for_each(|k| {
                current.remove(k);
            });
            Ok(())
        })?;
        self.mark_unsaved();
        Ok(())
    }
}

/// Tags: keys of 1 to 128 characters, values of up to 256, at most 50 on a queue. The error for too many says
/// "{queue}", which [`named_queue`] fills in.
pub(super) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), SqsError> {
    use crate::aws::sqs::{MAX_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
    if tags.len() > MAX_TAGS {
        return Err(SqsError::invalid("Too many tags added for queue {queue}."));
    }
    for (tag_key, value) in tags {
        if tag_key.is_empty() || tag_key.chars().count() > MAX_TAG_KEY_CHARS {
            return Err(SqsError::invalid(format!(
                "Tag keys must be between 1 and {MAX_TAG_KEY_CHARS} characters in length."
            )));
        }
        if value.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(SqsError::invalid(format!(
                "Tag values must be between 0 and {MAX_TAG_VALUE_CHARS} characters in length."
            )));
        }
    }
    Ok(())
}

pub(super) fn named_queue(mut error: SqsError, queue: &str) -> SqsError {
    error.message = error.message.replace("{queue}", queue);
    error
}
