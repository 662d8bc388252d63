//! The digests SQS computes: the MD5s it returns and SDKs verify (of the body, and of message or system
//! attributes in AWS's binary encoding: names sorted; each of name, data type and value length-prefixed; a
//! transport byte 1 for String and Number, 2 for Binary), and the SHA-256 of content-based deduplication.

use super::message::AttributeValue;
use md5::{Digest, Md5};
use std::collections::BTreeMap;

pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// The deduplication id of content-based deduplication: the SHA-256 of the body, in hex (CreateQueue,
/// `ContentBasedDeduplication`).
pub fn sha256_of_body(body: &str) -> String {
    hex(&<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()))
}

/// `None` when there are no attributes (SQS then omits the field).
pub fn md5_of_attributes(attributes: &BTreeMap<String, AttributeValue>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut hasher = Md5::new();
    for (name, value) in attributes {
        length_prefixed(&mut hasher, name.as_bytes());
        length_prefixed(&mut hasher, value.data_type.as_bytes());
        match &value.binary {
            Some(binary) => {
                hasher.update([2u8]);
                length_prefixed(&mut hasher, binary);
            }
            None => {
                hasher.update([1u8]);
                length_prefixed(&mut hasher, value.string.as_deref().unwrap_or_default().as_bytes());
            }
        }
    }
    Some(hex(&hasher.finalize()))
}

fn length_prefixed(hasher: &mut Md5, bytes: &[u8]) {
    hasher.update((bytes.len() as u32).to_be_bytes());
    hasher.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_digest_is_plain_md5() {
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    /// Digests AWS returned for these attributes, as moto's and LocalStack's SQS tests pin them.
    #[test]
    fn attribute_digests_match_what_aws_returns() {
        for (name, value, digest) in [
            ("timestamp", "1493147359900", "235c5c510d26fb653d073faed50ae77c"),
            ("timestamp", "1493147359901", "994258b45346a2cc3f9cbb611aa7af30"),
            ("SOME_Valid.attribute-Name", "1493147359900", "36655e7e9d7c0e8479fa3f3f42247ae7"),
        ] {
            let mut attributes = BTreeMap::new();
            attributes.insert(
                name.to_string(),
                AttributeValue { data_type: "Number".into(), string: Some(value.into()), binary: None },
            );
            assert_eq!(md5_of_attributes(&attributes).as_deref(), Some(digest), "{name}={value}");
        }
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
    }
}
