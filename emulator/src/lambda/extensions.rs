//! Extensions of one execution environment, as the Extensions API (2020-01-01) keeps them: internal extensions
//! (threads or tasks of the handler process) register during init, then each takes its events with `next`. Lambda
//! hands an invocation to the runtime only once every extension is ready (has called `next` since its last
//! event), sends `INVOKE` to those subscribed, and closes registration when init ends. The wire format is
//! [`super::extensions_api`]'s.
//!
//! External extensions are executables of a layer's `extensions/` folder that [`super::worker`] starts beside the
//! runtime; they register under their file name and, unlike internal ones (Lambda refuses it), may subscribe to
//! `SHUTDOWN`, which they get when the environment is reclaimed ([`Extensions::shutdown`]).

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

/// At most 10 extensions per function (Lambda quotas, "Extensions").
pub const MAX_EXTENSIONS: usize = 10;

/// Why a registration or call was refused: an Extensions API error type and message (answered with 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error_type: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(error_type: &'static str, message: impl Into<String>) -> Self {
        Self { error_type, message: message.into() }
    }
}

/// One registered extension.
#[derive(Debug)]
pub struct Extension {
    pub id: String,
    pub name: String,
    subscribed_to_invoke: bool,
    subscribed_to_shutdown: bool,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
    sender: mpsc::UnboundedSender<Value>,
    /// Waiting in `next` with its previous event done.
    ready: AtomicBool,
}

/// The extensions of one process.
#[derive(Default)]
pub struct Extensions {
    registered: Mutex<Vec<Arc<Extension>>>,
    /// The names of the external extensions started beside the runtime (their file names).
    external: Mutex<Vec<String>>,
    /// Registration closes when init ends (the runtime's first `next`).
    closed: AtomicBool,
    became_ready: Notify,
}

impl Extensions {
    /// `POST /extension/register` of an internal extension named `name` for `events`.
    pub fn register(&self, name: &str, events: &[String]) -> Result<Arc<Extension>, Refusal> {
        if name.is_empty() {
            return Err(Refusal::new("Extension.InvalidExtensionName", "Empty extension name"));
        }
        let external = self.external.lock().unwrap().iter().any(|n| n == name);
        let (mut subscribed_to_invoke, mut subscribed_to_shutdown) = (false, false);
        for event in events {
            match event.as_str() {
                "INVOKE" => subscribed_to_invoke = true,
                "SHUTDOWN" if external => subscribed_to_shutdown = true,
                "SHUTDOWN" => {
                    return Err(Refusal::new(
                        "Extension.InvalidEventType",
                        "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
                    ))
                }
                other => {
                    return Err(Refusal::new("Extension.InvalidEventType", format!("{other}: ErrorInvalidEventType")))
                }
            }
        }
        let mut registered = self.registered.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            return Err(Refusal::new("Extension.RegistrationClosed", "Extension registration closed already"));
        }
        if registered.iter().any(|e| e.name == name) {
            return Err(Refusal::new("Extension.InvalidExtensionState", "Extension with this name already registered"));
        }
        if registered.len() >= MAX_EXTENSIONS {
            return Err(Refusal::new(
                "Extension.TooManyExtensions",
                format!("Extension limit ({MAX_EXTENSIONS}) reached"),
            ));
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        let extension = Arc::new(Extension {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            subscribed_to_invoke,
            subscribed_to_shutdown,
            events: tokio::sync::Mutex::new(receiver),
            sender,
            ready: AtomicBool::new(false),
        });
        registered.push(extension.clone());
        drop(registered);
        self.became_ready.notify_waiters();
        Ok(extension)
    }

    /// The external extensions about to start, by the names they will register under.
    pub fn expect_external(&self, names: Vec<String>) {
        *self.external.lock().unwrap() = names;
    }

    /// Waits until each of `names` has registered, or `gone` says its process has ended; the names that did not
    /// register.
    pub async fn registered_of(&self, names: &[String], gone: impl Fn(usize) -> bool) -> Vec<String> {
        let settled = || {
            let registered = self.names();
            let waiting: Vec<usize> = (0..names.len()).filter(|&i| !registered.contains(&names[i])).collect();
            waiting.iter().all(|&i| gone(i)).then(|| waiting.into_iter().map(|i| names[i].clone()).collect())
        };
        // A process's end is not announced: look for it now and then.
        self.wait_for(settled, Some(std::time::Duration::from_millis(50))).await
    }

    /// Waits until `settled` answers, asking it again whenever an extension registers, becomes ready or goes, and
    /// at least every `poll` when given.
    async fn wait_for<T>(&self, settled: impl Fn() -> Option<T>, poll: Option<std::time::Duration>) -> T {
        loop {
            // Enabled before asking, so that a change between the question and the wait is not missed.
            let notified = self.became_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(answer) = settled() {
                return answer;
            }
            match poll {
                Some(poll) => drop(tokio::time::timeout(poll, notified).await),
                None => notified.await,
            }
        }
    }

    pub fn find(&self, id: &str) -> Option<Arc<Extension>> {
        self.registered.lock().unwrap().iter().find(|e| e.id == id).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.registered.lock().unwrap().iter().map(|e| e.name.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.registered.lock().unwrap().is_empty()
    }

    /// Init is over: no more registrations.
    pub fn close_registration(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// `GET /extension/event/next`: the extension is ready; waits for its next event. `None` when the process
    /// is going away.
    pub async fn next(&self, extension: &Extension) -> Option<Value> {
        let mut events = extension.events.lock().await;
        extension.ready.store(true, Ordering::SeqCst);
        self.became_ready.notify_waiters();
        events.recv().await
    }

    /// Waits until every extension is ready.
    pub async fn all_ready(&self) {
        let ready = || self.registered.lock().unwrap().iter().all(|e| e.ready.load(Ordering::SeqCst));
        // Without extensions (nearly always), nothing to wait for.
        if !ready() {
            self.wait_for(|| ready().then_some(()), None).await
        }
    }

    /// Sends a `SHUTDOWN` event to the extensions subscribed to it (external ones only).
    pub fn shutdown(&self, event: &Value) {
        for extension in self.registered.lock().unwrap().iter().filter(|e| e.subscribed_to_shutdown) {
            let _ = extension.sender.send(event.clone());
        }
    }

    /// An external extension whose process has ended: it is no longer waited for.
    pub fn gone(&self, name: &str) {
        self.registered.lock().unwrap().retain(|e| e.name != name);
        self.became_ready.notify_waiters();
    }

    /// Whether any external extension registered.
    pub fn has_external(&self) -> bool {
        let external = self.external.lock().unwrap();
        self.registered.lock().unwrap().iter().any(|e| external.contains(&e.name))
    }

    /// Sends an `INVOKE` event to the extensions subscribed to it; they are busy until their next `next`. The
    /// event is built only if one is.
    pub fn invoke(&self, event: impl FnOnce() -> Value) {
        let registered = self.registered.lock().unwrap();
        let mut subscribed = registered.iter().filter(|e| e.subscribed_to_invoke).peekable();
        if subscribed.peek().is_none() {
            return;
        }
        let event = event();
        for extension in subscribed {
            extension.ready.store(false, Ordering::SeqCst);
            let _ = extension.sender.send(event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_invocation_waits_for_every_extension_to_be_ready_again() {
        let extensions = Arc::new(Extensions::default());
        let flusher = extensions.register("flusher", &["INVOKE".to_string()]).unwrap();
        let idle = extensions.register("idle", &[]).unwrap();
        assert_eq!(
            extensions.register("late", &["SHUTDOWN".to_string()]).unwrap_err().message,
            "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension"
        );
        assert_eq!(extensions.register("idle", &[]).unwrap_err().error_type, "Extension.InvalidExtensionState");
        let waiting = tokio::spawn({
            let extensions = extensions.clone();
            async move { extensions.all_ready().await }
        });
        let (e1, e2) = (extensions.clone(), extensions.clone());
        let flusher_next = tokio::spawn(async move { e1.next(&flusher).await });
        tokio::spawn(async move { e2.next(&idle).await });
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.unwrap().unwrap();
        extensions.invoke(|| serde_json::json!({"eventType": "INVOKE"}));
        let event = tokio::time::timeout(std::time::Duration::from_secs(1), flusher_next).await.unwrap().unwrap();
        assert_eq!(event.unwrap()["eventType"], "INVOKE");
        extensions.close_registration();
        assert_eq!(extensions.register("after", &[]).unwrap_err().error_type, "Extension.RegistrationClosed");
    }
}
