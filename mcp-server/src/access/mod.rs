//! Who may call, and how much: API keys ([`auth`]), OAuth access tokens ([`oauth`]), the
//! `Origin` and `Host` policy ([`origin`]), the CORS headers for allowed browser origins
//! ([`cors`]), per-client limits ([`limits`]) and the memory budget the global caps come from
//! ([`budget`]). Nothing here knows about HTTP routing.

pub mod auth;
pub mod budget;
pub mod cors;
pub mod limits;
pub mod oauth;
pub mod origin;
