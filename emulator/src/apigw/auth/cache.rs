//! Authorizer results kept for their TTL, keyed by the identity sources' values (the token, for a TOKEN
//! authorizer), not by route: API Gateway re-evaluates a cached policy against each new method ARN. Failures are
//! never kept. The map is bounded; when full, expired results go first, then everything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Results kept at most, per authorizer.
const MAX_ENTRIES: usize = 10_000;

pub struct ResultCache<T> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<T>)>>,
}

impl<T> ResultCache<T> {
    /// A TTL of zero keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(expires, _)| Instant::now() < *expires).map(|(_, result)| result.clone())
    }

    pub fn put(&self, key: String, result: Arc<T>) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, (expires, _)| now < *expires);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now() + self.ttl, result));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_expire_and_zero_keeps_nothing() {
        let cache = ResultCache::new(Duration::from_millis(30));
        cache.put("token".into(), Arc::new(1));
        assert_eq!(cache.get("token").as_deref(), Some(&1));
        assert!(cache.get("other").is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get("token").is_none(), "expired");
        let off = ResultCache::new(Duration::ZERO);
        off.put("token".into(), Arc::new(1));
        assert!(off.get("token").is_none());
    }
}
