//! The state every HTTP route shares, and the rmcp service behind `/mcp`.

use std::convert::Infallible;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{Full, combinators::BoxBody};
use rmcp::model::{Implementation, InitializeRequestParams, InitializeResult, SubscriptionFilter};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler};
use tokio_util::sync::CancellationToken;

use crate::access::limits::{ClientLimits, PerClient};
use crate::config::Config;
use crate::direct::{Answer, Direct, DirectRequest};
use crate::lifecycle::drain::Drain;
use crate::lifecycle::streams::StreamTracker;
use crate::sessions::changes::Change;
use crate::sessions::dormant::Dormant;
use crate::sessions::journal::Journal;
use crate::sessions::resident::Resident;
use crate::sessions::resumable::Resumable;
use crate::sessions::store::{SharedStore, StoreOptions, StoreSetting};
use crate::sessions::wakes::Wakes;
use tokio::sync::broadcast;

mod sessions;

/// rmcp's `handle`, with the handler type erased so routes need not be generic.
type McpHandle = dyn Fn(http::Request<Full<Bytes>>) -> BoxFuture<'static, http::Response<BoxBody<Bytes, Infallible>>>
    + Send
    + Sync;

/// The handler's [`crate::report::Report`], with its type erased.
type Reporter = dyn Fn() -> Vec<(&'static str, serde_json::Value)> + Send + Sync;

/// A listen stream's accepted filter and its feed of changes, when the handler's feed serves it.
pub type Subscription = (SubscriptionFilter, broadcast::Receiver<Change>);

/// What [`Direct::change_feed`] enables, with the handler's type erased.
type Listener = dyn Fn(&SubscriptionFilter) -> Option<Subscription> + Send + Sync;

/// The handler's [`crate::direct::Direct`], with its type erased.
type Answerer = dyn Fn(&DirectRequest<'_>) -> Option<Result<Answer, ErrorData>> + Send + Sync;

/// The handler's answer to a legacy `initialize` (its `negotiate_initialize`), with its type
/// erased; `None` when rmcp should answer.
type Initializer = dyn Fn(&InitializeRequestParams) -> Option<InitializeResult> + Send + Sync;

/// A receiver of the handler's change feed, for dormant sessions' GET streams.
type SessionFeed = dyn Fn() -> broadcast::Receiver<Change> + Send + Sync;

/// Shared state of the HTTP server.
pub struct App {
    /// The configuration read at start-up.
    pub config: Arc<Config>,
    /// Open SSE streams, and the switch that ends them.
    pub streams: Arc<StreamTracker>,
    /// Legacy sessions held in this process, read for `/health` and the session cap.
    pub sessions: Arc<LocalSessionManager>,
    /// The shared session store (`SESSION_STORE`), when sessions are not kept in memory only.
    pub store: Option<Arc<SharedStore>>,
    /// With a store: the events of legacy sessions' streams, for `Last-Event-ID` on any task.
    pub journal: Option<Arc<Journal>>,
    /// With a store: when each session held here was last used, so idle ones leave memory.
    pub resident: Resident,
    /// Without a store, for a handler that allows it: legacy sessions not in rmcp yet.
    pub dormant: Option<Arc<Dormant>>,
    /// Answers `initialize` for a dormant session.
    initializer: Box<Initializer>,
    /// The requests for sessions rmcp is waking (from dormancy or the store), one at a time.
    pub wakes: Wakes,
    /// Serving or draining.
    pub drain: Arc<Drain>,
    /// Ends rmcp's sessions and streams at shutdown.
    pub mcp_shutdown: CancellationToken,
    /// When the process started, for `uptime`.
    pub started: Instant,
    /// `initialize` requests admitted and not yet answered; with the sessions held, what
    /// `MAX_LEGACY_SESSIONS` limits (see [`App::admit_session`]).
    initializing: Arc<AtomicUsize>,
    /// Taken by each admission, so that check and count are one step among admitters.
    admitting: tokio::sync::Mutex<()>,
    /// What each client may take.
    pub limits: Arc<ClientLimits>,
    /// With `AUTH=oauth`: the resource server holding the issuer's keys.
    pub oauth: Option<Arc<crate::access::oauth::OAuth>>,
    /// Connections open now, counted by the accept loop against `MAX_CONNECTIONS`.
    pub connections: Arc<AtomicUsize>,
    /// Bytes of POST bodies that may still be received (`MAX_BODY_BYTES_IN_FLIGHT`, one permit
    /// per byte), taken as a body arrives and given back when its request is answered.
    pub body_bytes: Arc<tokio::sync::Semaphore>,
    mcp: Box<McpHandle>,
    /// The handler's own `/health` blocks.
    report: Box<Reporter>,
    /// The modern-era requests the handler answers itself.
    direct: Box<Answerer>,
    /// Listen streams served from the handler's change feed.
    listen: Box<Listener>,
    /// Dormant sessions' GET streams served from the handler's change feed, if it allows.
    session_feed: Option<Box<SessionFeed>>,
    /// The handler's `serverInfo`, for the result that ends a listen stream.
    pub server_info: Implementation,
}

/// One admitted `initialize`, counted against `MAX_LEGACY_SESSIONS` until dropped (by then its
/// session, if any, is in the session map).
pub struct SessionAdmission {
    initializing: Arc<AtomicUsize>,
}

impl Drop for SessionAdmission {
    fn drop(&mut self) {
        self.initializing.fetch_sub(1, Ordering::SeqCst);
    }
}

impl App {
    /// Builds the state around an MCP handler; `handler` is cloned for every session and every
    /// stateless request, so it should be cheap to clone (an `Arc` inside). Fails only for a
    /// `SESSION_STORE` URL the client library cannot use (the store itself is reached later).
    /// `oauth` is the resource server `AUTH=oauth` needs, started beforehand (it fetches the
    /// issuer's keys).
    pub fn new<H>(
        config: Arc<Config>,
        drain: Arc<Drain>,
        handler: H,
        oauth: Option<Arc<crate::access::oauth::OAuth>>,
    ) -> Result<Arc<Self>, String>
    where
        H: ServerHandler + crate::report::Report + Direct + Clone + Send + Sync + 'static,
    {
        let reporter = handler.clone();
        let report: Box<Reporter> = Box::new(move || reporter.health());
        let listener = handler.clone();
        let server = handler.get_info();
        let capabilities = server.capabilities;
        let listen: Box<Listener> = Box::new(move |requested| {
            // rmcp's narrowing: what the handler accepts and the server advertises.
            let feed = listener.change_feed()?;
            let candidate = listener.accepted_subscription_filter(requested)?;
            let advertised = requested.supported_by(&capabilities);
            let accepted = requested.intersection(&candidate).intersection(&advertised);
            Some((accepted, feed.subscribe()))
        });
        let session_feed: Option<Box<SessionFeed>> =
            (handler.session_streams_from_feed() && handler.change_feed().is_some()).then(|| {
                let feeder = handler.clone();
                Box::new(move || {
                    feeder
                        .change_feed()
                        .map_or_else(|| broadcast::channel(1).1, |feed| feed.subscribe())
                }) as Box<SessionFeed>
            });
        let answerer = handler.clone();
        let direct: Box<Answerer> = Box::new(move |request| {
            // A panic is the request's internal error, as it is through rmcp.
            let what = request.method;
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                answerer.answer_directly(request)
            })) {
                Ok(answer) => answer,
                Err(_) => Some(Err(crate::recover::panicked(what))),
            }
        });
        let store = match &config.session_store {
            StoreSetting::Memory => None,
            StoreSetting::Redis(url) => Some(Arc::new(SharedStore::open(
                url,
                StoreOptions {
                    prefix: config.session_store_prefix.clone(),
                    ttl: config.legacy_session_idle_timeout,
                    timeout: config.session_store_timeout,
                    password: config.session_store_password.clone(),
                },
            )?)),
        };
        let journal = store.clone().map(|store| Arc::new(Journal::new(store)));
        let dormant = (store.is_none() && handler.dormant_sessions())
            .then(|| Arc::new(Dormant::new(config.legacy_session_idle_timeout)));
        let negotiator = handler.clone();
        let initializer: Box<Initializer> = Box::new(move |params| {
            // An error (no version in common) is rmcp's to word.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                negotiator.negotiate_initialize(params).ok()
            }))
            .ok()
            .flatten()
        });
        let mut sessions = LocalSessionManager::default();
        if let Some(journal) = &journal {
            sessions = sessions.with_event_store(journal.clone());
        }
        sessions.session_config.keep_alive = Some(config.legacy_session_idle_timeout);
        sessions.session_config.sse_retry = Some(config.sse_retry);
        let sessions = Arc::new(sessions);
        let mcp_shutdown = CancellationToken::new();
        // Origin and Host are checked before a request reaches rmcp (see `origin`), with
        // subdomain wildcards and a deployment-friendly Host default; rmcp's own checks would
        // refuse an ALB's public host name, so they are off here.
        let mut rmcp_config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_sse_keep_alive(Some(config.sse_keepalive))
            .with_sse_retry(Some(config.sse_retry))
            .with_json_response(true)
            .with_max_request_body_bytes(config.max_request_body)
            .with_cancellation_token(mcp_shutdown.clone());
        if let Some(store) = &store {
            rmcp_config.session_store = Some(store.clone());
        }
        if let Some(dormant) = &dormant {
            rmcp_config.session_store = Some(dormant.clone());
        }
        let factory = move || Ok(handler.clone());
        let mcp: Box<McpHandle> = match &journal {
            // rmcp's HTTP side sees no event store: resumes go through `Resumable`, and the
            // modern era behaves as without a store.
            Some(journal) => {
                let manager = Arc::new(Resumable::new(sessions.clone(), journal.clone()));
                let service = StreamableHttpService::new(factory, manager, rmcp_config);
                Box::new(move |request| {
                    let service = service.clone();
                    Box::pin(async move { service.handle(request).await })
                })
            }
            None => {
                let service = StreamableHttpService::new(factory, sessions.clone(), rmcp_config);
                Box::new(move |request| {
                    let service = service.clone();
                    Box::pin(async move { service.handle(request).await })
                })
            }
        };
        let limits = ClientLimits::new(PerClient {
            rate: NonZeroU32::new(config.client_request_rate),
            burst: NonZeroU32::new(config.client_request_burst).unwrap_or(NonZeroU32::MIN),
            sessions: config.max_sessions_per_client,
            streams: config.max_streams_per_client,
            body_bytes: config.max_body_bytes_per_client,
        });
        let config_body_bytes = config.max_body_bytes_in_flight;
        let resident = match &store {
            Some(store) => {
                let store = store.clone();
                Resident::with_keys(move |id| store.key(id))
            }
            None => Resident::default(),
        };
        let app = Arc::new(App {
            streams: Arc::new(StreamTracker::new(config.sse_retry, config.request_timeout)),
            config,
            drain,
            sessions,
            store,
            journal,
            resident,
            dormant,
            initializer,
            wakes: Wakes::default(),
            mcp_shutdown,
            started: Instant::now(),
            initializing: Arc::default(),
            admitting: tokio::sync::Mutex::new(()),
            limits,
            oauth,
            connections: Arc::default(),
            body_bytes: Arc::new(tokio::sync::Semaphore::new(
                config_body_bytes.min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            mcp,
            report,
            direct,
            listen,
            session_feed,
            server_info: server.server_info,
        });
        tokio::spawn(sessions::sweep(Arc::downgrade(&app)));
        if app.store.is_some() {
            tokio::spawn(sessions::probe_store(Arc::downgrade(&app)));
            tokio::spawn(sessions::follow_session_ends(Arc::downgrade(&app)));
        }
        Ok(app)
    }

    /// The handler's own `/health` blocks.
    pub fn handler_health(&self) -> Vec<(&'static str, serde_json::Value)> {
        (self.report)()
    }

    /// The handler's own answer to a modern-era request, or `None` for rmcp.
    pub fn answer_directly(
        &self,
        request: &DirectRequest<'_>,
    ) -> Option<Result<Answer, ErrorData>> {
        (self.direct)(request)
    }

    /// A modern listen stream with filter `requested`, served from the handler's change feed,
    /// or `None` for rmcp.
    pub fn listen_directly(&self, requested: &SubscriptionFilter) -> Option<Subscription> {
        (self.listen)(requested)
    }

    /// The change feed a dormant session's GET stream is served from, when the handler allows it
    /// and sessions start dormant.
    pub fn session_feed(&self) -> Option<broadcast::Receiver<Change>> {
        self.dormant.as_ref()?;
        Some((self.session_feed.as_ref()?)())
    }

    /// Hands a fully read request to rmcp.
    pub fn handle_mcp(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> BoxFuture<'static, http::Response<BoxBody<Bytes, Infallible>>> {
        (self.mcp)(request)
    }
}
