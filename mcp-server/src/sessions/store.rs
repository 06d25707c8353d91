//! The shared session store (`SESSION_STORE`): legacy sessions kept in Redis or Valkey
//! (ElastiCache), so that any task serves any legacy session.
//!
//! rmcp defines the seam ([`SessionStore`]): a session's `initialize` parameters are written
//! when it starts, read by a task that gets a request for a session it does not hold (which
//! then replays the handshake and carries on), and removed by `DELETE`. What is stored, under
//! `SESSION_STORE_PREFIX` + `session:` + the SHA-256 of the session id (the id is the client's
//! credential: it appears neither in the keys nor in the logs):
//!
//! ```json
//! {"docs-mcp-session": 1, "initialize": { ...the client's initialize params... }}
//! ```
//!
//! Every key expires after `LEGACY_SESSION_IDLE_TIMEOUT`, refreshed while the session is used
//! ([`SharedStore::touch`], and every restore), so the store never fills with dead sessions. A
//! value that is not ours (corrupt, foreign, another version) is ignored with a warning: the
//! session is unknown, and its client starts a new one.
//!
//! Every call has a deadline (`SESSION_STORE_TIMEOUT`); the store's state (reachable or not,
//! the last error) is kept here for `/health` and for the endpoint, which answers requests that
//! need the store with 503 while it is down. The connection is opened on first use and
//! re-opened by the client library when lost, so the server starts, and recovers, whatever the
//! store is doing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod ends;
mod events;
mod setting;
pub use setting::{StoreSetting, StoreUrl, shown_url};

#[cfg(test)]
pub(crate) mod tests;

/// The largest value written for one session: a real client's `initialize` params are a few
/// hundred bytes; this bounds what one session can take in the store (`capabilities` and
/// `_meta` take any JSON, up to `MAX_REQUEST_BODY`).
pub const MAX_STORED_BYTES: usize = 8 * 1024;

/// A session in use renews its lease this many times per `LEGACY_SESSION_IDLE_TIMEOUT`; the
/// key lives one renewal interval longer than the timeout, so it never expires sooner than the
/// timeout after the session's last use.
pub const LEASE_RENEWALS: u32 = 8;

/// Marks our values, and their layout's version.
const FORMAT: u32 = 1;

/// What is stored for one session.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(rename = "docs-mcp-session")]
    format: u32,
    initialize: rmcp::model::InitializeRequestParams,
}

/// A store call that did not succeed.
#[derive(Debug)]
pub enum StoreError {
    /// No answer within `SESSION_STORE_TIMEOUT`.
    Timeout(Duration),
    /// The session's state is larger than [`MAX_STORED_BYTES`]: not written.
    TooLarge(usize),
    /// The store answered with an error, or the connection failed.
    Failed(redis::RedisError),
    /// The key holds a value of another type (`WRONGTYPE`): not ours. The store is fine.
    NotOurs(redis::RedisError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Timeout(after) => write!(
                f,
                "no answer within {} ms (SESSION_STORE_TIMEOUT)",
                after.as_millis()
            ),
            StoreError::Failed(error) | StoreError::NotOurs(error) => write!(f, "{error}"),
            StoreError::TooLarge(bytes) => write!(
                f,
                "a session's initialize params of {bytes} bytes exceed {MAX_STORED_BYTES} bytes"
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// The store's state, as `/health` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHealth {
    /// Whether the last call succeeded.
    pub reachable: bool,
    /// The last failure, if the store has failed since the process started.
    pub last_error: Option<String>,
    /// When that failure was, in seconds since the Unix epoch.
    pub last_error_at: Option<u64>,
}

/// The settings a store is opened with.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Put in front of every key (`SESSION_STORE_PREFIX`).
    pub prefix: String,
    /// How long a session's key lives without use (`LEGACY_SESSION_IDLE_TIMEOUT`).
    pub ttl: Duration,
    /// The deadline of every call (`SESSION_STORE_TIMEOUT`).
    pub timeout: Duration,
    /// A password that replaces the URL's (`SESSION_STORE_PASSWORD`, from a secret).
    pub password: Option<String>,
}

/// Legacy sessions in a Redis-protocol store; one per process.
pub struct SharedStore {
    client: redis::Client,
    connection: ConnectionManager,
    options: StoreOptions,
    reachable: AtomicBool,
    last_error: Mutex<Option<(String, SystemTime)>>,
    /// Sessions whose write (at `initialize`) or removal (at `DELETE`) failed, and whether
    /// because they were too large: the endpoint takes them back and answers accordingly, rather
    /// than hand out a session no other task could restore, or report an end that did not happen.
    failed: Mutex<HashMap<String, bool>>,
}

impl SharedStore {
    /// Opens the store at `url`; the connection itself is made on first use, so this fails only
    /// for a URL the client cannot use.
    pub fn open(url: &StoreUrl, options: StoreOptions) -> Result<SharedStore, String> {
        let mut info: redis::ConnectionInfo =
            redis::IntoConnectionInfo::into_connection_info(url.secret())
                .map_err(|e| format!("SESSION_STORE {url:?}: {e}"))?;
        if let Some(password) = &options.password {
            let redis = info.redis_settings().clone().set_password(password.clone());
            info = info.set_redis_settings(redis);
        }
        let client =
            redis::Client::open(info).map_err(|e| format!("SESSION_STORE {url:?}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            // One quick attempt per call while the store is away; the next call tries again.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(options.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("SESSION_STORE {url:?}: {e}"))?;
        Ok(SharedStore {
            client,
            connection,
            options,
            reachable: AtomicBool::new(true),
            last_error: Mutex::new(None),
            failed: Mutex::new(HashMap::new()),
        })
    }

    /// The hex SHA-256 of a session id: what names the session in the store.
    pub fn session_hash(&self, session_id: &str) -> String {
        let digest = Sha256::digest(session_id.as_bytes());
        let mut hash = String::with_capacity(64);
        for byte in digest {
            hash.push_str(&format!("{byte:02x}"));
        }
        hash
    }

    /// The key of a session: the prefix and the SHA-256 of its id.
    pub fn key(&self, session_id: &str) -> String {
        format!(
            "{}session:{}",
            self.options.prefix,
            self.session_hash(session_id)
        )
    }

    /// The key of the credential a session belongs to (with `AUTH` set): the prefix and the
    /// session's hash; the value is the client's name in logs (`key:<id>`, `sub:<id>`).
    fn owner_key(&self, session_id: &str) -> String {
        format!(
            "{}owner:{}",
            self.options.prefix,
            self.session_hash(session_id)
        )
    }

    /// Records the credential session `session_id` belongs to, with the session's lease.
    pub async fn set_owner(&self, session_id: &str, owner: &str) -> Result<(), StoreError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.owner_key(session_id))
            .arg(owner)
            .arg("EX")
            .arg(self.ttl_seconds());
        self.run::<()>(command).await
    }

    /// The credential session `session_id` belongs to, if one was recorded.
    pub async fn owner(&self, session_id: &str) -> Result<Option<String>, StoreError> {
        let mut command = redis::cmd("GET");
        command.arg(self.owner_key(session_id));
        match self.run::<Option<String>>(command).await {
            Err(StoreError::NotOurs(_)) => Ok(None),
            read => read,
        }
    }

    /// Whether the last call succeeded.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Acquire)
    }

    /// The state `/health` shows.
    pub fn health(&self) -> StoreHealth {
        let last = self.last_error.lock().expect("store error lock").clone();
        StoreHealth {
            reachable: self.reachable(),
            last_error_at: last.as_ref().map(|(_, at)| {
                at.duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
            last_error: last.map(|(error, _)| error),
        }
    }

    /// Runs one command under the deadline, and keeps the store's state.
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        self.settle(async move { command.query_async::<T>(&mut connection).await })
            .await
    }

    /// Runs a pipeline (one round trip) under the deadline, and keeps the store's state.
    async fn run_pipeline<T: redis::FromRedisValue>(
        &self,
        pipeline: redis::Pipeline,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        self.settle(async move { pipeline.query_async::<T>(&mut connection).await })
            .await
    }

    /// Bounds a call by `SESSION_STORE_TIMEOUT`, and keeps the store's state.
    async fn settle<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let result = match tokio::time::timeout(self.options.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if not_ours(&error) => Err(StoreError::NotOurs(error)),
            Ok(Err(error)) if error.clone().into_server_errors().is_some() => {
                // The store answered, with an error about this call: it is not down.
                tracing::warn!(%error, "session store call refused");
                *self.last_error.lock().expect("store error lock") =
                    Some((error.to_string(), SystemTime::now()));
                return Err(StoreError::Failed(error));
            }
            Ok(Err(error)) => Err(StoreError::Failed(error)),
            Err(_) => Err(StoreError::Timeout(self.options.timeout)),
        };
        match &result {
            Err(StoreError::NotOurs(error)) => {
                tracing::warn!(%error, "session store key of another type ignored");
            }
            Ok(_) => {
                if !self.reachable.swap(true, Ordering::AcqRel) {
                    tracing::info!("session store reachable again");
                }
            }
            Err(error) => {
                *self.last_error.lock().expect("store error lock") =
                    Some((error.to_string(), SystemTime::now()));
                if self.reachable.swap(false, Ordering::AcqRel) {
                    tracing::error!(%error, "Error: session store unreachable; legacy requests that need it get 503 until it answers again");
                }
            }
        }
        result
    }

    /// Reads a session's state and gives its key a new lease of `ttl`; `None` for an unknown
    /// session or a value that is not ours.
    pub async fn read(&self, session_id: &str) -> Result<Option<SessionState>, StoreError> {
        let key = self.key(session_id);
        let mut command = redis::cmd("GETEX");
        command.arg(&key).arg("EX").arg(self.ttl_seconds());
        let value: Option<Vec<u8>> = match self.run(command).await {
            Err(StoreError::NotOurs(_)) => return Ok(None),
            read => read?,
        };
        let Some(value) = value else {
            return Ok(None);
        };
        match serde_json::from_slice::<Stored>(&value) {
            Ok(stored) if stored.format == FORMAT => Ok(Some(SessionState::new(stored.initialize))),
            Ok(stored) => {
                tracing::warn!(
                    key,
                    format = stored.format,
                    "session store value of another format ignored"
                );
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(key, %error, "session store value that is not a session ignored");
                Ok(None)
            }
        }
    }

    /// Writes a session's state with a lease of `ttl`.
    pub async fn write(&self, session_id: &str, state: &SessionState) -> Result<(), StoreError> {
        let stored = Stored {
            format: FORMAT,
            initialize: state.initialize_params.clone(),
        };
        let value = serde_json::to_vec(&stored).expect("initialize params serialize");
        if value.len() > MAX_STORED_BYTES {
            return Err(StoreError::TooLarge(value.len()));
        }
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(session_id))
            .arg(value)
            .arg("EX")
            .arg(self.ttl_seconds());
        self.run::<()>(command).await
    }

    /// Removes a session everywhere: from the store, and (by a notice on the ended channel)
    /// from the memory of every task that holds it. Whether the store had it.
    pub async fn remove(&self, session_id: &str) -> Result<bool, StoreError> {
        let key = self.key(session_id);
        let mut command = redis::cmd("DEL");
        command
            .arg(&key)
            .arg(self.events_key(&self.session_hash(session_id)))
            .arg(self.owner_key(session_id));
        let removed = self.run::<u64>(command).await? > 0;
        let mut notice = redis::cmd("PUBLISH");
        notice.arg(self.ended_channel()).arg(&key);
        // Without the notice the other tasks still let the session go at their next lease
        // renewal, which finds the key gone.
        let _ = self.run::<u64>(notice).await;
        Ok(removed)
    }

    /// Whether the store holds the session.
    pub async fn contains(&self, session_id: &str) -> Result<bool, StoreError> {
        let mut command = redis::cmd("EXISTS");
        command.arg(self.key(session_id));
        self.run::<u64>(command).await.map(|n| n > 0)
    }

    /// Gives a session in use a new lease of `ttl`; `false` when its key is gone (the session
    /// was ended elsewhere, or the store lost it).
    pub async fn touch(&self, session_id: &str) -> Result<bool, StoreError> {
        let mut command = redis::cmd("EXPIRE");
        command.arg(self.key(session_id)).arg(self.ttl_seconds());
        let alive = self.run::<u64>(command).await.map(|n| n > 0)?;
        if alive {
            // The owner lives as long as its session (absent without AUTH: then a no-op).
            let mut owner = redis::cmd("EXPIRE");
            owner
                .arg(self.owner_key(session_id))
                .arg(self.ttl_seconds());
            let _ = self.run::<u64>(owner).await;
        }
        Ok(alive)
    }

    /// Asks the store whether it is there (the recovery probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run::<()>(redis::cmd("PING")).await
    }

    /// Whether a write or removal of this session failed, and if so whether because it was
    /// too large (and forgets it).
    pub fn take_failed(&self, session_id: &str) -> Option<bool> {
        self.failed.lock().expect("failed lock").remove(session_id)
    }

    /// How long a session in use goes between lease renewals.
    pub fn renew_after(&self) -> Duration {
        self.options.ttl / LEASE_RENEWALS
    }

    fn ttl_seconds(&self) -> u64 {
        (self.options.ttl + self.renew_after()).as_secs().max(1)
    }
}

/// Whether the store answered that a key holds a value of another type than the command's.
/// (One command's error or a pipeline's: they carry their server errors differently.)
fn not_ours(error: &redis::RedisError) -> bool {
    error.kind() == redis::ErrorKind::UnexpectedReturnType
        || error
            .clone()
            .into_server_errors()
            .is_some_and(|errors| errors.iter().any(|(_, e)| e.code() == "WRONGTYPE"))
}

#[async_trait::async_trait]
impl SessionStore for SharedStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        self.read(session_id).await.map_err(Into::into)
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let written = self.write(session_id, state).await;
        if let Err(error) = &written {
            self.failed.lock().expect("failed lock").insert(
                session_id.to_string(),
                matches!(error, StoreError::TooLarge(_)),
            );
        }
        written.map_err(Into::into)
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        let removed = self.remove(session_id).await;
        if removed.is_err() {
            // rmcp answers 202 whatever happened here: the endpoint takes this back and
            // answers 503, so the client sends DELETE again.
            self.failed
                .lock()
                .expect("failed lock")
                .insert(session_id.to_string(), false);
        }
        removed.map(|_| ()).map_err(Into::into)
    }
}
