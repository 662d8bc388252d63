//! Queue tags: TagQueue and UntagQueue on [`Sqs`] (SQS's limits on tags are [`super::checks`]', which CreateQueue
//! and `serverless.yml`'s `Tags` also meet).

use super::checks::{check_tags, named_queue};
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
