//! Long-lived SSE answers on HTTP/1.1 connections, served past their head without hyper.
//!
//! hyper's HTTP/1 connection keeps an 8 KiB read buffer and an 8 KiB write buffer for as long as
//! it lives, with no setting that shrinks them; for a held stream, which sends a few hundred
//! bytes a minute, they were two thirds of its cost. So a response marked [`LongLived`] (a
//! `subscriptions/listen` stream, a legacy GET stream) to an HTTP/1.1 request is handed off:
//!
//! 1. the service parks its body in the connection's `Activity`, adds `Connection: close` to its
//!    head, and gives hyper a stand-in body that never yields;
//! 2. hyper writes the head (with the chunked transfer coding, as for any body of unknown length)
//!    and flushes it; `WatchedIo` lets go of the socket at the first flush that finds hyper's
//!    buffer empty, which comes after the head's last byte was written;
//! 3. the connection's task drops hyper's connection, and its buffers with it, and writes the
//!    body's frames as chunks itself, under the same `WRITE_TIMEOUT`, while it watches the socket
//!    for the client's close. At the body's end it writes the last chunk and closes the
//!    connection, as `Connection: close` told the client it would.
//!
//! Bytes a client sends after its request on such a connection (a request pipelined behind a
//! stream that never ends cannot be answered) are read and thrown away, up to
//! [`DISCARDED_BYTES`]: past that the client is not a client, and the connection is closed
//! (hyper, which buffers such bytes, stops reading at its buffer's limit instead). HTTP/2
//! multiplexes streams on connections whose buffers are shared, and HTTP/1.0 has no chunks:
//! hyper keeps serving both.
//!
//! If hyper's connection ends before it lets go of the socket (the client reset it while the
//! head was written, a deadline passed), the parked body is dropped with the connection's task
//! ([`Unpark`]): the body's request guard holds the `Activity` it is parked in.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, StatusCode, Version, header};
use http_body::{Body, SizeHint};
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::watch::{Activity, GuardedBody, RequestGuard};

/// Marks a response whose body is a long-lived SSE stream, which an HTTP/1.1 connection serves
/// without hyper past the head (a response extension).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LongLived;

/// A parked body, as the connection's task serves it.
pub(super) type ParkedBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send>>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// The body hyper serves: the response's own, or, for one handed off, a stand-in that never
    /// yields (so hyper writes the head for a body of unknown length and waits).
    #[project = HyperBodyProj]
    pub(super) enum HyperBody<B> {
        Served { #[pin] body: B },
        Parked,
    }
}

impl<B: Body> Body for HyperBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            HyperBodyProj::Served { body } => body.poll_frame(cx),
            HyperBodyProj::Parked => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            HyperBody::Served { body } => body.is_end_stream(),
            HyperBody::Parked => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            HyperBody::Served { body } => body.size_hint(),
            HyperBody::Parked => SizeHint::default(),
        }
    }
}

/// Drops whatever is still parked in the connection's `Activity` when the connection's task
/// ends, however it ends (see [`Activity::abandon_handoff`]).
pub(super) struct Unpark(pub(super) Arc<Activity>);

impl Drop for Unpark {
    fn drop(&mut self) {
        self.0.abandon_handoff();
    }
}

/// `response` as hyper serves it, keeping its request counted (`guard`) until its body is done:
/// handed off when it is a long-lived stream answering an HTTP/1.1 request (its body parked in
/// the connection's `Activity`), else as it is.
pub(super) fn offer<B>(
    mut response: http::Response<B>,
    version: Version,
    guard: RequestGuard,
) -> http::Response<HyperBody<GuardedBody<B>>>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let long_lived = version == Version::HTTP_11
        && response.status() == StatusCode::OK
        && response.extensions().get::<LongLived>().is_some();
    if !long_lived {
        return response.map(|body| HyperBody::Served {
            body: GuardedBody::new(body, guard),
        });
    }
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    let (parts, body) = response.into_parts();
    let activity = guard.activity().clone();
    activity.park_body(Box::pin(GuardedBody::new(body, guard).map_err(Into::into)));
    http::Response::from_parts(parts, HyperBody::Parked)
}

/// How many bytes a client may send after its request on a handed-off stream's connection.
pub(super) const DISCARDED_BYTES: usize = 64 * 1024;

/// Serves a handed-off body on `stream` to its end, the client's close, or a write error; then
/// closes the connection. Bytes the client sends meanwhile are thrown away, up to
/// [`DISCARDED_BYTES`].
pub(super) async fn serve(mut stream: TcpStream, mut body: ParkedBody, activity: &Activity) {
    let mut scratch = [0u8; 256];
    let mut discarded = 0usize;
    loop {
        tokio::select! {
            biased;
            readable = stream.readable() => {
                if readable.is_err() {
                    return;
                }
                match stream.try_read(&mut scratch) {
                    Ok(0) => return,
                    Ok(n) => {
                        discarded += n;
                        if discarded > DISCARDED_BYTES {
                            tracing::debug!(
                                bytes = discarded,
                                "closed a stream whose client kept sending after its request"
                            );
                            return;
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
            frame = body.frame() => match frame {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    if data.is_empty() {
                        continue;
                    }
                    if write_all(&stream, activity, &chunk(&data)).await.is_err() {
                        return;
                    }
                }
                // As hyper does: the connection is closed without the last chunk, so the client
                // sees the answer was cut short.
                Some(Err(error)) => {
                    tracing::debug!(%error, "a handed-off stream's body failed");
                    return;
                }
                None => {
                    if write_all(&stream, activity, b"0\r\n\r\n").await.is_ok() {
                        let _ = stream.shutdown().await;
                    }
                    return;
                }
            },
        }
    }
}

/// `data` as one chunk of the chunked transfer coding, in one buffer (one write, one segment).
fn chunk(data: &[u8]) -> Vec<u8> {
    let size = format!("{:X}\r\n", data.len());
    let mut chunk = Vec::with_capacity(size.len() + data.len() + 2);
    chunk.extend_from_slice(size.as_bytes());
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(b"\r\n");
    chunk
}

/// Writes all of `bytes`, telling `activity` when the socket is full (its `WRITE_TIMEOUT`).
async fn write_all(stream: &TcpStream, activity: &Activity, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                activity.write_done();
                bytes = &bytes[n..];
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => activity.write_waiting(),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
