//! What one connection is doing, seen from its socket and its requests, and the deadlines that
//! follow from it (`HEADER_READ_TIMEOUT`, `HTTP_IDLE_TIMEOUT`, `WRITE_TIMEOUT`): the
//! connection's [`Activity`], the watcher that ends the connection when a deadline passes, the
//! socket wrapper that reports reads and blocked writes to it ([`WatchedIo`], with the HTTP/2
//! preface it spots), and the response body that keeps a request counted until it is done.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::Body;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::handoff::ParkedBody;

/// The connection deadlines, from the configuration.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) idle: Duration,
    pub(super) header_read: Duration,
    pub(super) write: Duration,
}

const IDLE: u8 = 0;
const READING_HEADERS: u8 = 1;
const BUSY: u8 = 2;

/// What one connection is doing, as seen from its socket reads and its requests.
pub(super) struct Activity {
    phase: AtomicU8,
    /// When the phase began, in ms since `epoch`.
    since_ms: AtomicU64,
    /// Requests whose responses are not finished.
    in_flight: AtomicUsize,
    /// When the socket began refusing the bytes of a write still waiting, in ms since `epoch`
    /// plus one; 0 while writes go through.
    write_stalled_ms: AtomicU64,
    /// HTTP/2, seen from the connection preface: its frames between requests (PING,
    /// WINDOW_UPDATE, SETTINGS) are not a new request's headers, so reads never start the
    /// header deadline after the first request.
    multiplexed: AtomicBool,
    epoch: Instant,
    changed: Notify,
    /// A long-lived answer being handed off (`handoff.rs`): set when its body is parked.
    handoff_wanted: AtomicBool,
    /// The parked body, and the socket once hyper has written all it had.
    handoff: Mutex<Handoff>,
}

/// What a hand-off needs: the body, parked by the service, and the socket, let go of by
/// [`WatchedIo`] once hyper's buffer is empty.
#[derive(Default)]
struct Handoff {
    body: Option<ParkedBody>,
    stream: Option<TcpStream>,
}

impl Activity {
    /// A new connection: its first request's headers are due within `HEADER_READ_TIMEOUT`, so
    /// a connection that never sends a byte is not held for `HTTP_IDLE_TIMEOUT`.
    pub(super) fn new() -> Self {
        Activity {
            phase: AtomicU8::new(READING_HEADERS),
            since_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            write_stalled_ms: AtomicU64::new(0),
            multiplexed: AtomicBool::new(false),
            epoch: Instant::now(),
            changed: Notify::new(),
            handoff_wanted: AtomicBool::new(false),
            handoff: Mutex::default(),
        }
    }

    /// Parks a long-lived answer's body: the socket is let go of at hyper's next flush.
    pub(super) fn park_body(&self, body: ParkedBody) {
        self.handoff().body = Some(body);
        self.handoff_wanted.store(true, Ordering::Release);
    }

    /// The parked body and the socket, once both are there (they are parked while hyper's
    /// connection is polled, so the connection's task looks each time that poll is done).
    pub(super) fn handed_off(&self) -> Option<(TcpStream, ParkedBody)> {
        if !self.handoff_wanted.load(Ordering::Acquire) {
            return None;
        }
        let mut handoff = self.handoff();
        if handoff.body.is_none() || handoff.stream.is_none() {
            return None;
        }
        Some((handoff.stream.take()?, handoff.body.take()?))
    }

    /// Drops a parked body and socket that were never handed off (hyper's connection ended
    /// first, or a deadline passed). The body keeps its request's guard, which holds this
    /// `Activity`: left here, the two would keep each other, and the stream's count, forever.
    pub(super) fn abandon_handoff(&self) {
        let mut handoff = self.handoff();
        let parked = (handoff.body.take(), handoff.stream.take());
        drop(handoff);
        drop(parked);
    }

    fn handoff(&self) -> std::sync::MutexGuard<'_, Handoff> {
        self.handoff.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters `phase`. Only a phase whose deadline may come sooner than the one the watcher
    /// sleeps towards wakes it (`wake`): waking it for every change would cost the connection's
    /// task three extra polls per request.
    fn set(&self, phase: u8, wake: bool) {
        self.since_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
        if wake {
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: if nothing was in flight, a new request has begun, and its headers are due
    /// within `HEADER_READ_TIMEOUT`, which may be sooner than the idle deadline being watched.
    fn bytes_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE
            && self.in_flight.load(Ordering::Acquire) == 0
            && !self.multiplexed.load(Ordering::Relaxed)
        {
            self.set(READING_HEADERS, true);
        }
    }

    /// A write found the socket full (the client is not reading): its deadline starts now,
    /// unless it already runs, and the watcher is woken to watch it.
    pub(super) fn write_waiting(&self) {
        if self.write_stalled_ms.load(Ordering::Relaxed) == 0 {
            let now = self.epoch.elapsed().as_millis() as u64 + 1;
            self.write_stalled_ms.store(now, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    /// A write went through: the client reads again.
    pub(super) fn write_done(&self) {
        if self.write_stalled_ms.load(Ordering::Relaxed) != 0 {
            self.write_stalled_ms.store(0, Ordering::Relaxed);
        }
    }

    /// A request is being answered: no deadline of this loop's while it is (the watcher sees it
    /// when it next wakes).
    pub(super) fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.set(BUSY, false);
        RequestGuard(self.clone())
    }

    /// Resolves when a limit expires, with its name. The watcher wakes at the deadline of the
    /// phase it saw (or, while a request is answered, after the shorter limit) and looks again:
    /// a phase entered meanwhile has a deadline of its own, counted from when it began.
    pub(super) async fn watch(&self, limits: Limits) -> &'static str {
        loop {
            let now = Instant::now();
            let stalled = self.write_stalled_ms.load(Ordering::Relaxed);
            let write_deadline = (stalled != 0)
                .then(|| self.epoch + Duration::from_millis(stalled - 1) + limits.write);
            if write_deadline.is_some_and(|deadline| deadline <= now) {
                return "WRITE_TIMEOUT";
            }
            // A request in flight wins over a phase written late by another that just ended
            // (HTTP/2 answers several at once).
            let phase = match self.in_flight.load(Ordering::Acquire) {
                0 => self.phase.load(Ordering::Acquire),
                _ => BUSY,
            };
            let since = self.epoch + Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
            let wake = match phase {
                IDLE | READING_HEADERS => {
                    let (limit, name) = if phase == IDLE {
                        (limits.idle, "HTTP_IDLE_TIMEOUT")
                    } else {
                        (limits.header_read, "HEADER_READ_TIMEOUT")
                    };
                    if since + limit <= now {
                        return name;
                    }
                    since + limit
                }
                _ => now + limits.header_read.min(limits.idle),
            };
            let wake = write_deadline.map_or(wake, |deadline| deadline.min(wake));
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

/// Marks a request finished when its response body is done (or dropped).
pub(super) struct RequestGuard(Arc<Activity>);

impl RequestGuard {
    /// The connection's activity.
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.0
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // No wake: the watcher, asleep for at most the shorter limit while a request is
            // answered, wakes before this idle deadline.
            self.0.set(IDLE, false);
        }
    }
}

pin_project! {
    /// A response body that keeps its request counted as in flight until it is finished.
    pub(super) struct GuardedBody<B> {
        #[pin]
        inner: B,
        _guard: RequestGuard,
    }
}

impl<B> GuardedBody<B> {
    /// `inner`, keeping its request counted (`guard`) until it is done or dropped.
    pub(super) fn new(inner: B, guard: RequestGuard) -> Self {
        GuardedBody {
            inner,
            _guard: guard,
        }
    }
}

impl<B: Body> Body for GuardedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pin_project! {
    /// The TCP stream, reporting reads and blocked writes to the connection's `Activity`, and
    /// giving it up for a hand-off (`handoff.rs`). Once given up, it is only `Pending`: the
    /// connection's task drops hyper's connection before it is polled again.
    pub(super) struct WatchedIo {
        inner: Option<TcpStream>,
        activity: Arc<Activity>,
        preface: PrefaceMatch,
    }
}

impl WatchedIo {
    /// `inner`, reporting to `activity`.
    pub(super) fn new(inner: TcpStream, activity: Arc<Activity>) -> Self {
        WatchedIo {
            inner: Some(inner),
            activity,
            preface: PrefaceMatch::default(),
        }
    }
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        let before = buf.filled().len();
        let result = Pin::new(inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            if this.preface.feed(&buf.filled()[before..]) == Some(true) {
                this.activity.multiplexed.store(true, Ordering::Relaxed);
            }
            this.activity.bytes_read();
        }
        result
    }
}

/// How much of HTTP/2's connection preface (prior knowledge) a connection's first bytes match,
/// over as many reads as they come in, as hyper-util's `auto` builder tells the protocols apart.
#[derive(Default)]
struct PrefaceMatch {
    matched: usize,
    decided: bool,
}

impl PrefaceMatch {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /// Reads the next bytes: `Some(true)` once the whole preface came, `Some(false)` at the
    /// first byte that differs, `None` while undecided or once decided before.
    fn feed(&mut self, bytes: &[u8]) -> Option<bool> {
        if self.decided {
            return None;
        }
        for &byte in bytes {
            if byte != Self::PREFACE[self.matched] {
                self.decided = true;
                return Some(false);
            }
            self.matched += 1;
            if self.matched == Self::PREFACE.len() {
                self.decided = true;
                return Some(true);
            }
        }
        None
    }
}

/// Reports a write's outcome: the socket full, or taking bytes again.
fn note_write<T>(activity: &Activity, result: &Poll<T>) {
    match result {
        Poll::Pending => activity.write_waiting(),
        Poll::Ready(_) => activity.write_done(),
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        let result = Pin::new(inner).poll_write(cx, buf);
        note_write(this.activity, &result);
        result
    }

    /// hyper flushes the socket only once its own buffer is empty: a hand-off waiting takes
    /// the socket here.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        let result = Pin::new(inner).poll_flush(cx);
        if result.is_ready()
            && this.activity.handoff_wanted.load(Ordering::Acquire)
            && let Some(stream) = this.inner.take()
        {
            this.activity.handoff().stream = Some(stream);
        }
        result
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.project().inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_shutdown(cx),
            None => Poll::Pending,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        let result = Pin::new(inner).poll_write_vectored(cx, bufs);
        note_write(this.activity, &result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|inner| inner.is_write_vectored())
    }
}

#[cfg(test)]
mod tests;
