//! Per-client limits: how much one client may take, so that one client hits its own limit long
//! before the server's global caps and everyone else is still served.
//!
//! The client is its address: the peer, or behind trusted proxies the entry of
//! `X-Forwarded-For` that the outermost trusted proxy added (`TRUSTED_PROXY_HOPS`; 1 behind an
//! ALB, which appends the address it saw). IPv6 clients are keyed by their /64, the block one
//! host is usually given, so rotating addresses inside it does not make a client many. Four
//! limits, each answered with 429 and `Retry-After`: a request rate (a GCRA token bucket per
//! client, from the `governor` crate), legacy sessions held, long-lived streams held, and POST
//! body bytes held (being received or not yet answered).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Who is asking, as the limits see it: an address, or with `AUTH=api-key` the key (by its id),
/// so that a key's limits hold from wherever it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    Address(IpAddr),
    ApiKey(super::auth::KeyId),
    /// With `AUTH=oauth`: the token's issuer and subject, hashed.
    Subject(super::auth::KeyId),
}

impl ClientKey {
    /// The key of an address: IPv6 addresses by their /64 (IPv4-mapped ones as IPv4).
    pub fn of(address: IpAddr) -> ClientKey {
        match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::Address(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    ClientKey::Address(IpAddr::V6(Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    )))
                }
            },
            v4 => ClientKey::Address(v4),
        }
    }

    /// The client of a request from `peer` with this `X-Forwarded-For`, trusting `hops` proxies
    /// in front of the server: the `hops`-th entry from the right. A list shorter than that, or
    /// an entry that is not an address, means the request did not come through them: the peer.
    pub fn from_request(peer: IpAddr, forwarded_for: Option<&str>, hops: usize) -> ClientKey {
        if hops == 0 {
            return ClientKey::of(peer);
        }
        let client = forwarded_for.and_then(|list| {
            let entries: Vec<&str> = list.split(',').map(str::trim).collect();
            let entry = entries.len().checked_sub(hops).map(|at| entries[at])?;
            entry.parse::<IpAddr>().ok()
        });
        ClientKey::of(client.unwrap_or(peer))
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientKey::Address(address) => address.fmt(f),
            ClientKey::ApiKey(id) => write!(f, "key:{id}"),
            ClientKey::Subject(id) => write!(f, "sub:{id}"),
        }
    }
}

/// What each client may take; from the settings.
#[derive(Debug, Clone, Copy)]
pub struct PerClient {
    /// Requests per second, sustained; `None` means no rate limit.
    pub rate: Option<NonZeroU32>,
    /// Requests a client may send at once above the rate.
    pub burst: NonZeroU32,
    /// Legacy sessions a client may hold.
    pub sessions: usize,
    /// Long-lived streams a client may hold.
    pub streams: usize,
    /// POST body bytes a client may hold at once.
    pub body_bytes: usize,
}

/// The per-client state; one per process.
pub struct ClientLimits {
    limits: PerClient,
    rate: Option<DefaultKeyedRateLimiter<ClientKey>>,
    /// Sessions held per client, and which client holds each session id.
    sessions: Mutex<Sessions>,
    /// Long-lived streams held per client.
    streams: Arc<Mutex<HashMap<ClientKey, usize>>>,
    /// POST body bytes held per client.
    body_bytes: Arc<Mutex<HashMap<ClientKey, usize>>>,
}

#[derive(Default)]
struct Sessions {
    per_client: HashMap<ClientKey, usize>,
    owner: HashMap<String, ClientKey>,
    /// Admitted `initialize` requests not yet answered, per client.
    pending: HashMap<ClientKey, usize>,
}

/// Why a client was refused, with how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over its request rate.
    Rate(Duration),
    /// At its session limit.
    Sessions,
    /// At its stream limit.
    Streams,
}

impl ClientLimits {
    /// Limits of `limits` for every client.
    pub fn new(limits: PerClient) -> Arc<ClientLimits> {
        let rate = limits
            .rate
            .map(|rate| RateLimiter::dashmap(Quota::per_second(rate).allow_burst(limits.burst)));
        Arc::new(ClientLimits {
            limits,
            rate,
            sessions: Mutex::default(),
            streams: Arc::default(),
            body_bytes: Arc::default(),
        })
    }

    /// Counts one request against the client's rate.
    pub fn check_rate(&self, client: ClientKey) -> Result<(), Refusal> {
        let Some(rate) = &self.rate else {
            return Ok(());
        };
        rate.check_key(&client).map_err(|not_until| {
            Refusal::Rate(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Admits one `initialize` from `client` if its sessions (held and being set up) stay under
    /// its limit; [`SessionClaim::bind`] records the session it created.
    pub fn claim_session(self: &Arc<Self>, client: ClientKey) -> Result<SessionClaim, Refusal> {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        let held = sessions.per_client.get(&client).copied().unwrap_or(0);
        let pending = sessions.pending.get(&client).copied().unwrap_or(0);
        if held + pending >= self.limits.sessions {
            return Err(Refusal::Sessions);
        }
        *sessions.pending.entry(client).or_default() += 1;
        Ok(SessionClaim {
            limits: self.clone(),
            client,
        })
    }

    /// A session ended (its `DELETE` was answered).
    pub fn session_ended(&self, id: &str) {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        if let Some(client) = sessions.owner.remove(id) {
            release(&mut sessions.per_client, client);
        }
    }

    /// Forgets every session `is_live` says has ended (closed by the idle timeout, say).
    pub fn retain_sessions(&self, is_live: impl Fn(&str) -> bool) {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        let ended: Vec<String> = sessions
            .owner
            .keys()
            .filter(|id| !is_live(id))
            .cloned()
            .collect();
        for id in ended {
            if let Some(client) = sessions.owner.remove(&id) {
                release(&mut sessions.per_client, client);
            }
        }
        crate::sessions::shrink_if_sparse(&mut sessions.owner);
        crate::sessions::shrink_if_sparse(&mut sessions.per_client);
    }

    /// Takes one of the client's stream slots, held until the returned value is dropped.
    pub fn claim_stream(&self, client: ClientKey) -> Result<ClientStream, Refusal> {
        let mut streams = self.streams.lock().expect("streams lock");
        let held = streams.entry(client).or_default();
        if *held >= self.limits.streams {
            return Err(Refusal::Streams);
        }
        *held += 1;
        Ok(ClientStream {
            streams: self.streams.clone(),
            client,
        })
    }

    /// An account of the body bytes one request of `client` holds, empty at first.
    pub fn body_account(&self, client: ClientKey) -> ClientBody {
        ClientBody {
            counts: self.body_bytes.clone(),
            client,
            held: 0,
            most: self.limits.body_bytes,
        }
    }

    /// Drops the rate state of clients that are full again (it would otherwise grow with every
    /// address ever seen); run now and then.
    pub fn sweep(&self) {
        if let Some(rate) = &self.rate {
            rate.retain_recent();
            rate.shrink_to_fit();
        }
    }

    /// Sessions and streams held by `client` now.
    pub fn held(&self, client: ClientKey) -> (usize, usize) {
        let sessions = self.sessions.lock().expect("sessions lock");
        let streams = self.streams.lock().expect("streams lock");
        (
            sessions.per_client.get(&client).copied().unwrap_or(0),
            streams.get(&client).copied().unwrap_or(0),
        )
    }
}

fn release(counts: &mut HashMap<ClientKey, usize>, client: ClientKey) {
    if let Some(count) = counts.get_mut(&client) {
        *count -= 1;
        if *count == 0 {
            counts.remove(&client);
        }
    }
}

/// An admitted `initialize`, pending until bound to the session it created or dropped.
pub struct SessionClaim {
    limits: Arc<ClientLimits>,
    client: ClientKey,
}

impl ClientLimits {
    /// The client that holds session `id` in this process, if any.
    pub fn owner_of(&self, id: &str) -> Option<ClientKey> {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions.owner.get(id).copied()
    }
}

impl SessionClaim {
    /// The `initialize` created session `id` (or a request restored it from the store): it now
    /// counts as held by the client. A session already held by someone is counted once, by its
    /// first holder (two requests may restore the same session at once).
    pub fn bind(self, id: &str) {
        let mut sessions = self.limits.sessions.lock().expect("sessions lock");
        if sessions.owner.contains_key(id) {
            return;
        }
        *sessions.per_client.entry(self.client).or_default() += 1;
        sessions.owner.insert(id.to_string(), self.client);
    }
}

impl Drop for SessionClaim {
    fn drop(&mut self) {
        let mut sessions = self.limits.sessions.lock().expect("sessions lock");
        release(&mut sessions.pending, self.client);
    }
}

/// The body bytes one request holds against its client's `MAX_BODY_BYTES_PER_CLIENT`; given
/// back when dropped.
pub struct ClientBody {
    counts: Arc<Mutex<HashMap<ClientKey, usize>>>,
    client: ClientKey,
    held: usize,
    most: usize,
}

impl ClientBody {
    /// Takes `bytes` more if the client's bodies stay within its limit; `false` takes nothing.
    pub fn try_take(&mut self, bytes: usize) -> bool {
        let mut counts = self.counts.lock().expect("body bytes lock");
        let held = counts.entry(self.client).or_default();
        match held.checked_add(bytes) {
            Some(total) if total <= self.most => {
                *held = total;
                self.held += bytes;
                true
            }
            _ => {
                if *held == 0 {
                    counts.remove(&self.client);
                }
                false
            }
        }
    }

    /// Gives back everything this request took.
    pub fn release(&mut self) {
        if self.held == 0 {
            return;
        }
        let mut counts = self.counts.lock().expect("body bytes lock");
        if let Some(held) = counts.get_mut(&self.client) {
            *held = held.saturating_sub(self.held);
            if *held == 0 {
                counts.remove(&self.client);
            }
        }
        self.held = 0;
    }
}

impl Drop for ClientBody {
    fn drop(&mut self) {
        self.release();
    }
}

/// One of a client's long-lived streams; gives the slot back when dropped.
pub struct ClientStream {
    streams: Arc<Mutex<HashMap<ClientKey, usize>>>,
    client: ClientKey,
}

impl Drop for ClientStream {
    fn drop(&mut self) {
        release(&mut self.streams.lock().expect("streams lock"), self.client);
    }
}

#[cfg(test)]
mod tests;
