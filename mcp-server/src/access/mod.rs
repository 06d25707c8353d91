//! Who may call, and how much: the `Origin` and `Host` policy ([`origin`]) and the CORS headers
//! for allowed browser origins ([`cors`]). Nothing here knows about HTTP routing.

pub mod cors;
pub mod limits;
pub mod origin;
