//! The open WebSocket connections: registered on connect, reached by id for PostToConnection, GetConnection and
//! DeleteConnection, and removed when they end. Knows nothing of HTTP or frames.

use crate::journal::{clip, Journal, What};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What the gateway asks a connection's task to do.
#[derive(Debug)]
pub enum Outbound {
    Message(Bytes),
    Close { code: u16, reason: String },
}

/// How many outbound messages may wait for a slow client before PostToConnection waits too.
const OUTBOUND_QUEUE: usize = 1024;

pub struct Connection {
    pub id: String,
    pub connected_at: DateTime<Utc>,
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// The upgrade request's headers, for the DISCONNECT event.
    pub headers: Vec<(String, String)>,
    last_active: Mutex<DateTime<Utc>>,
    outbound: mpsc::Sender<Outbound>,
    /// What the `$connect` authorizer granted: every later event's `requestContext.authorizer`.
    authorizer: std::sync::OnceLock<serde_json::Value>,
}

/// The connection no longer exists (closed, or never was): API Gateway's GoneException.
#[derive(Debug, PartialEq, Eq)]
pub struct Gone;

impl Connection {
    pub fn new(
        id: String,
        source_ip: String,
        user_agent: Option<String>,
        headers: Vec<(String, String)>,
    ) -> (Arc<Self>, mpsc::Receiver<Outbound>) {
        let (outbound, receiver) = mpsc::channel(OUTBOUND_QUEUE);
        let now = Utc::now();
        let connection = Self {
            id,
            connected_at: now,
            source_ip,
            user_agent,
            headers,
            last_active: Mutex::new(now),
            outbound,
            authorizer: std::sync::OnceLock::new(),
        };
        (Arc::new(connection), receiver)
    }

    pub fn last_active(&self) -> DateTime<Utc> {
        *self.last_active.lock().unwrap()
    }

    /// Keeps what the `$connect` authorizer granted (once).
    pub fn authorize(&self, context: serde_json::Value) {
        let _ = self.authorizer.set(context);
    }

    pub fn authorizer(&self) -> Option<&serde_json::Value> {
        self.authorizer.get()
    }

    pub fn touch(&self) {
        *self.last_active.lock().unwrap() = Utc::now();
    }
}

pub struct Connections {
    open: Mutex<HashMap<String, Arc<Connection>>>,
    /// Where connections opening and closing, and messages pushed, are written.
    journal: Arc<Journal>,
}

impl Connections {
    pub fn new(journal: Arc<Journal>) -> Self {
        Self { open: Mutex::new(HashMap::new()), journal }
    }

    pub fn register(&self, connection: Arc<Connection>) {
        let connection_id = connection.id.clone();
        self.open.lock().unwrap().insert(connection.id.clone(), connection);
        self.journal.record(|| What::Connected { connection_id });
    }

    pub fn remove(&self, id: &str) {
        if self.open.lock().unwrap().remove(id).is_some() {
            self.journal.record(|| What::Disconnected { connection_id: id.to_string() });
        }
    }

    /// The open connections, oldest first.
    pub fn all(&self) -> Vec<Arc<Connection>> {
        let mut all: Vec<_> = self.open.lock().unwrap().values().cloned().collect();
        all.sort_by_key(|c| c.connected_at);
        all
    }

    pub fn get(&self, id: &str) -> Result<Arc<Connection>, Gone> {
        self.open.lock().unwrap().get(id).cloned().ok_or(Gone)
    }

    pub fn ids(&self) -> Vec<String> {
        self.open.lock().unwrap().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.open.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// PostToConnection: queues `data` for the client.
    pub async fn post(&self, id: &str, data: Bytes) -> Result<(), Gone> {
        let connection = self.get(id)?;
        let text = self.journal.is_enabled().then(|| clip(&String::from_utf8_lossy(&data)));
        connection.outbound.send(Outbound::Message(data)).await.map_err(|_| Gone)?;
        connection.touch();
        self.journal.record(|| What::Pushed { connection_id: id.to_string(), data: text.unwrap_or_default() });
        Ok(())
    }

    /// DeleteConnection: the server closes the connection; `$disconnect` follows.
    pub async fn close(&self, id: &str, code: u16, reason: &str) -> Result<(), Gone> {
        let connection = self.get(id)?;
        connection.outbound.send(Outbound::Close { code, reason: reason.to_string() }).await.map_err(|_| Gone)?;
        self.remove(id);
        Ok(())
    }
}
