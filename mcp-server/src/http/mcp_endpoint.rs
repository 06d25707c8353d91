//! `/mcp`: policy first, then rmcp, then stream tracking on the way out.
//!
//! Order matters: Host and Origin, then credentials and the client's rate, are checked before
//! the body is read (no work for a refused caller; the checks are in [`super::gate`]); the body
//! is read once, under `MAX_REQUEST_BODY`, so the request can be classified (its JSON-RPC id and
//! method) before rmcp sees it; rmcp answers (the hand-off, and the wrapping of an SSE answer so
//! it is counted and ends on time, are in [`super::forward`]); CORS headers go on last.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures::Stream;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use warp::reply::Response;

use crate::access::cors;
use crate::access::limits::{ClientKey, Refusal};
use crate::app::App;
use crate::config::AuthMode;
use crate::http::body::read_post;
use crate::http::forward::forward;
use crate::http::gate::{
    Credential, authenticate, client_of, foreign_session, host_and_origin, reserve_stream,
    unknown_session,
};
use crate::http::peek::Peek;
use crate::http::replies::{
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, jsonrpc_error, too_many, unavailable,
    unreadable_body,
};
use crate::http::session_stream::session_stream;
use crate::http::store_gate;
use crate::http::{direct, listen};
use crate::lifecycle::streams::{StreamKind, StreamSlot};
use crate::sessions::MAX_INITIALIZE_BYTES;

/// The header a client resumes an SSE stream with.
const LAST_EVENT_ID: &str = "last-event-id";

/// The peer's address, put on every request by the accept loop (warp's own `addr::remote()` only
/// works under `warp::serve`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Handles one request to `/mcp`.
pub async fn handle<S, B, E>(
    app: Arc<App>,
    method: Method,
    headers: HeaderMap,
    peer: Option<PeerAddr>,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: std::fmt::Display,
{
    let peer = peer.map(|p| p.0);
    let origin = match host_and_origin(&app, &headers, peer) {
        Ok(origin) => origin,
        Err(refusal) => return *refusal,
    };

    // A preflight carries no credentials (browsers send none): it is answered below, keys or not.
    // Credentials come after Host and Origin (a refused page learns nothing about them) and
    // before the rate check, which then counts the key or token subject, not the address.
    let mut credential = Credential::of(client_of(&app, &headers, peer));
    if app.config.auth != AuthMode::None && method != Method::OPTIONS {
        match authenticate(&app, &headers, credential.client, peer).await {
            Ok(found) => credential = found,
            Err(mut refusal) => {
                cors::decorate(&mut refusal, origin.as_ref());
                return *refusal;
            }
        }
    }
    let client = credential.client;
    if method != Method::OPTIONS
        && let Err(Refusal::Rate(wait)) = app.limits.check_rate(client)
    {
        tracing::warn!(%client, "client request rate exceeded; 429");
        let mut response = too_many(
            None,
            "Too many requests from this client (CLIENT_REQUEST_RATE); retry later",
            wait,
        );
        cors::decorate(&mut response, origin.as_ref());
        return response;
    }
    if let Some(mut refusal) = foreign_session(&app, &headers, client) {
        cors::decorate(&mut refusal, origin.as_ref());
        return refusal;
    }
    let mut response = match method {
        Method::OPTIONS => {
            return cors::preflight(
                origin.as_ref(),
                headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS),
            );
        }
        Method::POST => post(&app, headers, peer, credential, body).await,
        Method::GET => match reserve_stream(&app, credential) {
            Err(refusal) => *refusal,
            Ok(slot) => match store_gate::session_of(&app, &headers).map(str::to_string) {
                None => {
                    // A dormant session's stream is served from the change feed, if it can be.
                    let mut slot = Some(slot);
                    match session_stream(&app, &headers, peer, &mut slot) {
                        Some(response) => response,
                        None => {
                            forward(&app, method, headers, peer, Bytes::new(), None, slot).await
                        }
                    }
                }
                Some(session) => session_get(&app, session, headers, peer, client, slot).await,
            },
        },
        Method::DELETE => match match store_gate::session_of(&app, &headers) {
            Some(session) => store_gate::before_delete(&app, session, client).await,
            None => unknown_session(&app, &headers).await,
        } {
            Some(refusal) => refusal,
            None => {
                let id = headers
                    .get("mcp-session-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let response = forward(&app, method, headers, peer, Bytes::new(), None, None).await;
                let response = match &id {
                    Some(id) => store_gate::after_delete(&app, id, response),
                    None => response,
                };
                if let Some(id) = id
                    && response.status().is_success()
                {
                    app.limits.session_ended(&id);
                }
                response
            }
        },
        _ => {
            let mut response = jsonrpc_error(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                INVALID_REQUEST,
                "Method not allowed: use POST, GET or DELETE",
            );
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            response
        }
    };
    cors::decorate(&mut response, origin.as_ref());
    response
}

async fn post<S, B, E>(
    app: &Arc<App>,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    credential: Credential,
    body: S,
) -> Response
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: std::fmt::Display,
{
    let client = credential.client;
    let body = match read_post(app, &headers, peer, client, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let crate::http::body::ReadBody { bytes, share } = body;
    let bytes = &bytes;
    // A body that is not a JSON object is left for rmcp to refuse with its parse error.
    let peek = serde_json::from_slice::<Peek>(bytes).ok();
    let id = peek.as_ref().and_then(|p| p.id.clone());
    let bad_arguments = peek
        .as_ref()
        .is_some_and(|p| p.params.arguments_not_an_object);
    let rpc_method = peek.and_then(|p| p.method);
    if bad_arguments && id.is_some() {
        return jsonrpc_error(
            StatusCode::OK,
            id.as_ref(),
            INVALID_PARAMS,
            "Invalid params: `arguments` must be an object of named arguments",
        );
    }
    // rmcp's own test: the media type, parameters aside, is exactly application/json.
    let json_content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    let initialize = rpc_method.as_deref() == Some("initialize");
    if initialize && bytes.len() > MAX_INITIALIZE_BYTES {
        tracing::warn!(bytes = bytes.len(), "initialize too large; refused");
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            id.as_ref(),
            INVALID_PARAMS,
            &format!(
                "Invalid params: an initialize request larger than {MAX_INITIALIZE_BYTES} bytes is refused (its params are kept for the session's life; clients send a few hundred bytes)"
            ),
        );
    }
    // A modern-era request the handler answers itself skips rmcp's per-request machinery
    // (`direct` declines anything rmcp would answer differently).
    if !initialize
        && id.is_some()
        && rpc_method.as_deref() != Some("subscriptions/listen")
        && let Some(response) = direct::answer(app, &headers, bytes, json_content)
    {
        drop(share);
        return response;
    }
    if initialize && let Some(refusal) = store_gate::before_initialize(app, id.as_ref()) {
        return refusal;
    }
    // A request for a session this process does not hold restores it from the store (an
    // `initialize` that names a session too: rmcp looks the session up before the message).
    let session = store_gate::session_of(app, &headers).map(str::to_string);
    // Marked in use before the gate looks, so the idle sweep cannot release the session between
    // the gate's check and rmcp's answer; kept until the answer is out, however long it runs.
    let in_use = session.as_ref().map(|session| app.resident.in_use(session));
    let restoring = match &session {
        Some(session) => match store_gate::before(app, session, client, id.as_ref()).await {
            Ok(restoring) => restoring,
            Err(refusal) => return refusal,
        },
        None => None,
    };
    // A request in a legacy session held here that the handler answers itself skips the
    // session worker and its SSE answer. With a store, only once the session is held (a
    // restore is rmcp's), and its use is noted as rmcp's answers are (the store lease).
    if !initialize
        && id.is_some()
        && restoring.is_none()
        && let Some(session) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok())
        && let Some(response) =
            direct::answer_in_session(app, session, &headers, bytes, json_content)
    {
        app.session_used(session);
        drop(share);
        drop(in_use);
        return response;
    }
    // A dormant session's `notifications/initialized` waits for its wake (rmcp replays it).
    if id.is_none()
        && app.dormant.is_some()
        && let Some(session) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok())
        && let Some(response) =
            direct::accept_in_session(app, session, &headers, bytes, json_content)
    {
        drop(share);
        return response;
    }
    let claim = if initialize {
        match app.limits.claim_session(client) {
            Ok(claim) => Some(claim),
            Err(_) => {
                tracing::warn!(%client, limit = app.config.max_sessions_per_client, "client session limit reached; initialize refused");
                return too_many(
                    id.as_ref(),
                    "Too many sessions from this client (MAX_SESSIONS_PER_CLIENT); end some with DELETE or retry later",
                    app.config.sse_retry,
                );
            }
        }
    } else {
        None
    };
    let admission = if initialize {
        app.admit_session().await
    } else {
        None
    };
    if rpc_method.as_deref() == Some("initialize") && admission.is_none() {
        tracing::warn!(
            limit = app.config.max_legacy_sessions,
            "legacy session limit reached; initialize refused"
        );
        return unavailable(
            id.as_ref(),
            "Too many sessions on this server (MAX_LEGACY_SESSIONS); retry later",
            app.config.sse_retry,
        );
    }
    // Without a store, a session starts dormant: rmcp takes it up when a request needs it.
    if initialize
        && let Some((started, response)) = direct::start_session(app, &headers, bytes, json_content)
    {
        if let Some(claim) = claim {
            claim.bind(&started);
        }
        drop(admission);
        drop(share);
        tracing::info!(peer = peer.map(|p| p.to_string()), "legacy session started");
        return response;
    }
    let slot = if rpc_method.as_deref() == Some("subscriptions/listen") {
        match reserve_stream(app, credential) {
            Ok(slot) => Some(slot),
            Err(refusal) => return *refusal,
        }
    } else {
        None
    };
    // A modern listen stream served from the handler's change feed, without rmcp's service
    // task and channels per stream (`listen` declines anything else).
    let mut slot = slot;
    if let Some(response) = listen::listen(app, &headers, bytes, json_content, peer, &mut slot) {
        drop(share);
        return response;
    }
    let slot = match (slot, in_use) {
        (None, Some(in_use)) => Some(StreamSlot::holding(in_use)),
        (Some(slot), Some(in_use)) => Some(slot.hold(in_use)),
        (slot, None) => slot,
    };
    let kind = match (rpc_method.as_deref(), id.clone()) {
        (Some("subscriptions/listen"), _) => Some(StreamKind::Listen),
        (Some(_), Some(id)) => Some(StreamKind::Request(id)),
        _ => None,
    };
    let response = if claim.is_some() || restoring.is_some() {
        // rmcp stores a new or restored session before it answers: if the client hangs up
        // meanwhile, the session must still be bound to it (and checked against the store), so
        // the hand-off runs on a task of its own that the client's leaving cannot cancel.
        let (app, body, rpc_id) = (app.clone(), bytes.clone(), id.clone());
        let handoff = tokio::spawn(async move {
            let response = forward(&app, Method::POST, headers, peer, body, kind, slot).await;
            // The body's bytes are rmcp's until it answers, even if the client left meanwhile.
            drop(share);
            drop(admission);
            let started = response
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match (claim, started, session) {
                (Some(claim), Some(started), _) => {
                    claim.bind(&started);
                    // The id itself stays out of the logs: it is the client's credential.
                    tracing::info!(peer = peer.map(|p| p.to_string()), "legacy session started");
                    store_gate::after_initialize(&app, &started, client, response, rpc_id.as_ref())
                        .await
                }
                (_, _, Some(session)) => {
                    store_gate::after(&app, &session, restoring, response, rpc_id.as_ref()).await
                }
                _ => response,
            }
        });
        match handoff.await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(%error, "Error in the session hand-off");
                jsonrpc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    id.as_ref(),
                    INTERNAL_ERROR,
                    "Internal error while starting the session",
                )
            }
        }
    } else {
        let response = forward(app, Method::POST, headers, peer, bytes.clone(), kind, slot).await;
        match session {
            Some(session) => store_gate::after(app, &session, None, response, id.as_ref()).await,
            None => response,
        }
    };
    unreadable_body(response, bytes, json_content)
}

/// A GET stream of a legacy session while a session store is in use: the session is marked in
/// use before the gate looks (see `post`) and kept in memory while the stream is open.
async fn session_get(
    app: &Arc<App>,
    session: String,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    client: ClientKey,
    slot: StreamSlot,
) -> Response {
    let in_use = app.resident.in_use(&session);
    let restoring = match store_gate::before(app, &session, client, None).await {
        Ok(restoring) => restoring,
        Err(refusal) => return refusal,
    };
    let slot = slot.hold(in_use);
    let mut headers = headers;
    if let Some(journal) = &app.journal
        && let Some(last) = headers.get(LAST_EVENT_ID)
    {
        // The journal resumes within the session that asks, whatever id it sends.
        let id = journal.resume_id(&session, last.as_bytes());
        match HeaderValue::from_bytes(&id) {
            Ok(id) => {
                headers.insert(LAST_EVENT_ID, id);
            }
            Err(_) => {
                headers.remove(LAST_EVENT_ID);
            }
        }
    }
    let response = forward(
        app,
        Method::GET,
        headers,
        peer,
        Bytes::new(),
        None,
        Some(slot),
    )
    .await;
    store_gate::after(app, &session, restoring, response, None).await
}
