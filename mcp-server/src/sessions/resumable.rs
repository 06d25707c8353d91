//! The legacy session manager when a shared store is in use: rmcp's local one, whose events go
//! to the [`Journal`], with resumes that replay what a client missed on any task.
//!
//! rmcp, given an event store, would route every resume to the store alone, and would also
//! persist and replay the modern era's stateless streams (and leave their handlers running when
//! their clients leave). This manager keeps the event store to itself: rmcp's HTTP side sees
//! none, so the modern era behaves exactly as without a store, and a resume comes here:
//!
//! - a session's own stream: the session's events after the client's id, from the store, then
//!   the stream rmcp gives a new GET (the session's stream if it has none open, else a quiet one
//!   kept alive, as rmcp does), without what was just replayed. It ends with the session.
//! - a request's stream: what followed the id, then the rest until the answer, if this task ran
//!   the request for this session.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, SessionError,
};
use rmcp::transport::streamable_http_server::session::{RestoreOutcome, SessionId, SessionManager};

use super::journal::{Journal, Resume, after_replayed, is_answer, parse_resume};

/// rmcp's local session manager, with resumes across tasks.
pub struct Resumable {
    inner: Arc<LocalSessionManager>,
    journal: Arc<Journal>,
}

impl Resumable {
    /// Wraps `inner`, which must have been given `journal` as its event store.
    pub fn new(inner: Arc<LocalSessionManager>, journal: Arc<Journal>) -> Resumable {
        Resumable { inner, journal }
    }
}

/// Notes, as a request stream's events go out, whose it is (its first event) and when its
/// answer has reached the client (the journal then lets it go).
fn noting_delivery(
    journal: Arc<Journal>,
    owner: Arc<str>,
    stream: impl Stream<Item = ServerSseMessage> + Send + Sync + 'static,
) -> impl Stream<Item = ServerSseMessage> + Send + Sync + 'static {
    let mut first = true;
    stream.inspect(move |event| {
        let Some(id) = event.event_id.as_deref() else {
            return;
        };
        if std::mem::take(&mut first) {
            journal.owned_by(id, &owner);
        }
        if is_answer(event) {
            journal.delivered(id);
        }
    })
}

impl SessionManager for Resumable {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.inner.create_session().await
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let stream = self.inner.create_stream(id, message).await?;
        let owner = Arc::from(self.journal.session_hash(id));
        Ok(noting_delivery(self.journal.clone(), owner, stream))
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        match parse_resume(&last_event_id) {
            Some(Resume::Request {
                hash,
                stream,
                index,
            }) => {
                let replay = self.journal.replay_request(hash, stream, index);
                let owner = Arc::from(hash);
                Ok(noting_delivery(self.journal.clone(), owner, replay).left_stream())
            }
            Some(Resume::Session { hash, after }) => {
                // The live stream first, so nothing sent meanwhile falls between the two.
                let live = self.inner.create_standalone_stream(id).await?;
                let missed = match after {
                    Some(after) => self.journal.session_events_after(hash, after).await,
                    None => Vec::new(),
                };
                let seen = missed
                    .iter()
                    .filter_map(|e| e.event_id.as_deref().and_then(super::journal::Entry::parse))
                    .max()
                    .or(after);
                Ok(futures::stream::iter(missed)
                    .chain(after_replayed(live, seen))
                    .right_stream())
            }
            None => Err(SessionError::InvalidEventId.into()),
        }
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        self.inner.restore_session(id).await
    }
}
