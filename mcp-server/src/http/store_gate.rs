//! `/mcp` with a shared session store (`SESSION_STORE`): what a legacy request for a session
//! needs from the store before rmcp sees it, and what rmcp's answer means afterwards.
//!
//! A request for a session this process does not hold makes rmcp restore it from the store
//! (it replays the handshake, then serves the request): that restore counts against the same
//! caps as an `initialize` (the client's `MAX_SESSIONS_PER_CLIENT`, the process's
//! `MAX_LEGACY_SESSIONS`). While the store is unreachable, requests that need it (an
//! `initialize`, which writes it; a session not held here, which reads it; `DELETE` of one) get
//! 503 with `Retry-After` at once instead of waiting on it; sessions held here, modern requests
//! and `/health` go on as usual.

use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::access::limits::{ClientKey, SessionClaim};
use crate::app::{App, SessionAdmission};
use crate::config::AuthMode;
use crate::http::gate::session_not_found;
use crate::http::replies::{jsonrpc_error, too_many, unavailable};
use crate::sessions::store::SharedStore;

/// The legacy session a request names, when a store is in use and the request is of the legacy
/// era (a modern request carries no session; a stray header on one is not looked up).
pub fn session_of<'h>(app: &App, headers: &'h HeaderMap) -> Option<&'h str> {
    app.store.as_ref()?;
    let modern = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() >= crate::http::MODERN_PROTOCOL);
    if modern {
        return None;
    }
    headers.get("mcp-session-id")?.to_str().ok()
}

/// A restore in progress: the caps it counts against until its session is held.
pub struct Restoring {
    claim: SessionClaim,
    _admission: SessionAdmission,
}

/// The 503 for a request that needs the store while it is unreachable.
pub fn store_unavailable(app: &App, id: Option<&serde_json::Value>) -> Response {
    unavailable(
        id,
        "The session store is unreachable (SESSION_STORE); retry shortly",
        app.config.sse_retry,
    )
}

/// Before a request for session `session` goes to rmcp: `None` when it is held here, a
/// [`Restoring`] when rmcp will restore it, or the refusal to send instead.
pub async fn before(
    app: &Arc<App>,
    session: &str,
    client: ClientKey,
    rpc_id: Option<&serde_json::Value>,
) -> Result<Option<Restoring>, Response> {
    let Some(store) = &app.store else {
        return Ok(None);
    };
    if app.holds_session(session).await {
        return Ok(None);
    }
    if !store.reachable() {
        return Err(store_unavailable(app, rpc_id));
    }
    check_owner(app, store, session, client).await?;
    let claim = app.limits.claim_session(client).map_err(|_| {
        tracing::warn!(%client, limit = app.config.max_sessions_per_client, "client session limit reached; session restore refused");
        too_many(
            rpc_id,
            "Too many sessions from this client (MAX_SESSIONS_PER_CLIENT); end some with DELETE or retry later",
            app.config.sse_retry,
        )
    })?;
    let admission = app.admit_session().await.ok_or_else(|| {
        tracing::warn!(
            limit = app.config.max_legacy_sessions,
            "legacy session limit reached; session restore refused"
        );
        unavailable(
            rpc_id,
            "Too many sessions on this server (MAX_LEGACY_SESSIONS); retry later",
            app.config.sse_retry,
        )
    })?;
    Ok(Some(Restoring {
        claim,
        _admission: admission,
    }))
}

/// After rmcp answered a request for session `session`: the restored session is bound to its
/// client, a use is noted (renewing the store lease now and then), and an internal error that
/// came from the store becomes the store's 503.
pub async fn after(
    app: &Arc<App>,
    session: &str,
    restoring: Option<Restoring>,
    response: Response,
    rpc_id: Option<&serde_json::Value>,
) -> Response {
    let Some(store) = &app.store else {
        return response;
    };
    let restored = restoring.is_some();
    if let Some(restoring) = restoring
        && app.holds_session(session).await
    {
        restoring.claim.bind(session);
    }
    if response.status().is_success() {
        app.session_used(session);
        return response;
    }
    // rmcp answers a failed restore (the store read failed or timed out) with a 500.
    if response.status().is_server_error() && (restored || !store.reachable()) {
        return store_unavailable(app, rpc_id);
    }
    response
}

/// Before an `initialize`: refused while the store is unreachable (the new session could not
/// be written, so no other task could serve it).
pub fn before_initialize(app: &App, rpc_id: Option<&serde_json::Value>) -> Option<Response> {
    let store = app.store.as_ref()?;
    (!store.reachable()).then(|| store_unavailable(app, rpc_id))
}

/// After an `initialize` answered with session `session`: if its store write failed, the
/// session is released here and the client told to retry (or, for params too large to keep, to
/// send smaller ones), rather than handed a session that ends with this process.
pub async fn after_initialize(
    app: &Arc<App>,
    session: &str,
    client: ClientKey,
    response: Response,
    rpc_id: Option<&serde_json::Value>,
) -> Response {
    let Some(store) = &app.store else {
        return response;
    };
    // With credentials, the session belongs to this client on every task (a task restoring it
    // checks). Without the record a restoring task binds it to its first user there.
    if app.config.auth != AuthMode::None
        && let Err(error) = store.set_owner(session, &client.to_string()).await
    {
        tracing::warn!(%error, "the session's owner could not be recorded in the store");
    }
    match store.take_failed(session) {
        None => {}
        Some(too_large) => {
            app.release_session(session).await;
            if too_large {
                return jsonrpc_error(
                    StatusCode::BAD_REQUEST,
                    rpc_id,
                    crate::http::replies::INVALID_PARAMS,
                    &format!(
                        "Invalid params: initialize params larger than {} bytes cannot be kept for the session (SESSION_STORE)",
                        crate::sessions::store::MAX_STORED_BYTES
                    ),
                );
            }
            return store_unavailable(app, rpc_id);
        }
    }
    app.session_used(session);
    response
}

/// Before a `DELETE` of session `session` this process does not hold: a 404 unless the store
/// has it (rmcp then removes it there), a 503 if the store cannot say.
pub async fn before_delete(app: &App, session: &str, client: ClientKey) -> Option<Response> {
    let store = app.store.as_ref()?;
    if app.holds_session(session).await {
        return None;
    }
    if !store.reachable() {
        return Some(store_unavailable(app, None));
    }
    if let Err(refusal) = check_owner(app, store, session, client).await {
        return Some(refusal);
    }
    match store.contains(session).await {
        Ok(true) => None,
        Ok(false) => Some(session_not_found()),
        Err(_) => Some(store_unavailable(app, None)),
    }
}

/// After rmcp answered a `DELETE` of session `session`: a removal from the store that failed
/// is a 503 (the client tries again; the session still exists for the other tasks), not the 202
/// rmcp gives whatever happened.
pub fn after_delete(app: &App, session: &str, response: Response) -> Response {
    match &app.store {
        Some(store) if store.take_failed(session).is_some() => store_unavailable(app, None),
        _ => response,
    }
}

/// With credentials: a 404 when the store says session `session` belongs to another client
/// (as on the task that holds it), a 503 when the store cannot say.
async fn check_owner(
    app: &App,
    store: &SharedStore,
    session: &str,
    client: ClientKey,
) -> Result<(), Response> {
    if app.config.auth == AuthMode::None {
        return Ok(());
    }
    match store.owner(session).await {
        Ok(Some(owner)) if owner != client.to_string() => {
            tracing::warn!(%client, "session used with another credential than its own; 404");
            Err(session_not_found())
        }
        Ok(_) => Ok(()),
        Err(_) => Err(store_unavailable(app, None)),
    }
}
