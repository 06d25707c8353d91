//! Reading a POST body once, under a size limit and a budget shared by every request.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warp::reply::Response;

use crate::access::limits::{ClientBody, ClientKey};
use crate::app::App;
use crate::http::replies::{INVALID_REQUEST, jsonrpc_error, too_many, unavailable};

/// Why a body could not be had.
pub enum ReadError {
    /// Larger than `MAX_REQUEST_BODY`.
    TooLarge,
    /// The bodies being received together would pass `MAX_BODY_BYTES_IN_FLIGHT`.
    Busy,
    /// The client's own bodies would pass `MAX_BODY_BYTES_PER_CLIENT`.
    ClientBusy,
    /// Not all there within `BODY_READ_TIMEOUT`.
    Stalled,
    /// The connection failed (why, in words).
    Broken(String),
}

/// A body read whole, and its share of the body budget (given back when dropped: keep it as
/// long as the bytes are in use).
pub struct ReadBody {
    pub bytes: Bytes,
    pub share: BodyShare,
}

/// What a body holds of the server's budget and of its client's.
pub struct BodyShare {
    _global: Option<OwnedSemaphorePermit>,
    _client: ClientBody,
}

/// The whole body, refused as soon as it passes `limit` bytes. Its bytes are taken from
/// `budget` (one permit per byte): all at once when the request declares its length
/// (`declared`, from `Content-Length`, which is also the buffer's size, so no growth goes
/// uncounted), else as they arrive. When they would pass what is left there, what was read is
/// let go, the rest is read and thrown away (so the connection can carry the answer and the
/// next request), and the body is refused as [`ReadError::Busy`]. The same bytes are counted in
/// `client`'s account, whose limit refuses the body as [`ReadError::ClientBusy`] the same way.
pub async fn read_limited<S, B, E>(
    body: S,
    limit: usize,
    declared: Option<usize>,
    budget: &Arc<Semaphore>,
    mut client: ClientBody,
) -> Result<ReadBody, ReadError>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    let mut share: Option<OwnedSemaphorePermit> = None;
    let mut received = 0usize;
    let mut busy: Option<ReadError> = None;
    // Bytes taken from the budget ahead of their arrival (the declared length).
    let mut reserved = 0usize;
    if let Some(declared) = declared.filter(|&n| n > 0) {
        if declared > limit {
            return Err(ReadError::TooLarge);
        }
        let wanted = u32::try_from(declared).map_err(|_| ReadError::TooLarge)?;
        if !client.try_take(declared) {
            busy = Some(ReadError::ClientBusy);
        } else {
            match budget.clone().try_acquire_many_owned(wanted) {
                Ok(taken) => {
                    share = Some(taken);
                    reserved = declared;
                    collected = BytesMut::with_capacity(declared);
                }
                Err(_) => {
                    client.release();
                    busy = Some(ReadError::Busy);
                }
            }
        }
    }
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|error| ReadError::Broken(error.to_string()))?;
        received += chunk.remaining();
        if received > limit {
            return Err(ReadError::TooLarge);
        }
        if busy.is_some() {
            chunk.advance(chunk.remaining());
            continue;
        }
        // What the reservation does not cover. Under `limit`, so it fits in a u32 permit count
        // for any sane limit.
        let uncovered = received.saturating_sub(reserved.max(collected.len()));
        let wanted =
            u32::try_from(uncovered.min(chunk.remaining())).map_err(|_| ReadError::TooLarge)?;
        if wanted > 0 {
            let taken = if client.try_take(wanted as usize) {
                budget
                    .clone()
                    .try_acquire_many_owned(wanted)
                    .map_err(|_| ReadError::Busy)
            } else {
                Err(ReadError::ClientBusy)
            };
            match taken {
                Ok(more) => match share.as_mut() {
                    Some(held) => held.merge(more),
                    None => share = Some(more),
                },
                Err(refusal) => {
                    // Let go of what was read: the rest is only thrown away.
                    busy = Some(refusal);
                    share = None;
                    client.release();
                    collected = BytesMut::new();
                    chunk.advance(chunk.remaining());
                    continue;
                }
            }
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let n = piece.len();
            chunk.advance(n);
        }
    }
    if let Some(refusal) = busy {
        // What was taken goes back as `share`, `client` and `collected` drop.
        return Err(refusal);
    }
    Ok(ReadBody {
        bytes: collected.freeze(),
        share: BodyShare {
            _global: share,
            _client: client,
        },
    })
}

/// Reads a POST body: at most `MAX_REQUEST_BODY` bytes, within `BODY_READ_TIMEOUT` of its
/// headers, and counted against the bytes in flight (the server's and `client`'s), whose share
/// the body holds until it is dropped (when the request is answered). A refusal is the answer to
/// send: 408 (and the connection closed), 413, 429, 503 or 400.
pub async fn read_post<S, B, E>(
    app: &App,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    client: ClientKey,
    body: S,
) -> Result<ReadBody, Response>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
    E: std::fmt::Display,
{
    let limit = app.config.max_request_body;
    let deadline = app.config.body_read_timeout;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let read = tokio::time::timeout(
        deadline,
        read_limited(
            body,
            limit,
            declared,
            &app.body_bytes,
            app.limits.body_account(client),
        ),
    );
    match read.await.unwrap_or(Err(ReadError::Stalled)) {
        Ok(body) => Ok(body),
        Err(ReadError::ClientBusy) => {
            tracing::warn!(
                %client,
                limit = app.config.max_body_bytes_per_client,
                "client body bytes at their limit; answered 429"
            );
            Err(too_many(
                None,
                "Too many request bytes from this client at once (MAX_BODY_BYTES_PER_CLIENT); retry later",
                app.config.sse_retry,
            ))
        }
        Err(ReadError::Busy) => {
            tracing::warn!(
                peer = peer.map(|p| p.to_string()),
                limit = app.config.max_body_bytes_in_flight,
                "request bodies in flight at their limit; answered 503"
            );
            Err(unavailable(
                None,
                "Too many request bytes being received on this server (MAX_BODY_BYTES_IN_FLIGHT); retry later",
                app.config.sse_retry,
            ))
        }
        Err(ReadError::Stalled) => {
            crate::meters::timeout("BODY_READ_TIMEOUT");
            tracing::warn!(
                peer = peer.map(|p| p.to_string()),
                timeout_ms = deadline.as_millis() as u64,
                "request body stalled; answered 408"
            );
            let mut response = jsonrpc_error(
                StatusCode::REQUEST_TIMEOUT,
                None,
                INVALID_REQUEST,
                &format!(
                    "Request body not received within {} ms (BODY_READ_TIMEOUT)",
                    deadline.as_millis()
                ),
            );
            // What is left of the body would be read as the next request: end the connection.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        }
        Err(ReadError::TooLarge) => Err(jsonrpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            INVALID_REQUEST,
            &format!("Request body exceeds {limit} bytes (MAX_REQUEST_BODY)"),
        )),
        Err(ReadError::Broken(error)) => {
            tracing::warn!(%error, "request body could not be read");
            Err(jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                INVALID_REQUEST,
                "Request body could not be read",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: usize) -> Arc<crate::access::limits::ClientLimits> {
        crate::access::limits::ClientLimits::new(crate::access::limits::PerClient {
            rate: None,
            burst: std::num::NonZeroU32::MIN,
            sessions: 1,
            streams: 1,
            body_bytes: per_client,
        })
    }

    fn account(per_client: usize) -> ClientBody {
        limits(per_client).body_account(crate::access::limits::ClientKey::of(
            std::net::Ipv4Addr::LOCALHOST.into(),
        ))
    }

    fn chunks(sizes: &[usize]) -> impl Stream<Item = Result<Bytes, warp::Error>> {
        let chunks: Vec<Result<Bytes, warp::Error>> = sizes
            .iter()
            .map(|&n| Ok(Bytes::from(vec![b'x'; n])))
            .collect();
        futures::stream::iter(chunks)
    }

    #[tokio::test]
    async fn bodies_take_their_bytes_from_the_budget_until_answered() {
        let budget = Arc::new(Semaphore::new(1000));
        let first = read_limited(chunks(&[300, 300]), 4096, None, &budget, account(1 << 20))
            .await
            .ok()
            .expect("fits");
        assert_eq!(first.bytes.len(), 600);
        assert_eq!(budget.available_permits(), 400);
        // A second body that would pass what is left is refused, and gives back what it took.
        assert!(matches!(
            read_limited(chunks(&[200, 300]), 4096, None, &budget, account(1 << 20)).await,
            Err(ReadError::Busy)
        ));
        assert_eq!(budget.available_permits(), 400);
        // One that fits is read; an empty one takes nothing.
        let small = read_limited(chunks(&[100]), 4096, None, &budget, account(1 << 20))
            .await
            .ok();
        assert_eq!(budget.available_permits(), 300);
        assert!(
            read_limited(chunks(&[]), 4096, None, &budget, account(1 << 20))
                .await
                .is_ok()
        );
        drop((first, small));
        assert_eq!(budget.available_permits(), 1000);
        assert!(matches!(
            read_limited(chunks(&[5000]), 4096, None, &budget, account(1 << 20)).await,
            Err(ReadError::TooLarge)
        ));
        assert_eq!(budget.available_permits(), 1000);
    }

    #[tokio::test]
    async fn a_declared_length_is_taken_whole_before_the_body_arrives() {
        let budget = Arc::new(Semaphore::new(1000));
        let held = read_limited(
            chunks(&[100, 500]),
            4096,
            Some(600),
            &budget,
            account(1 << 20),
        )
        .await
        .ok()
        .expect("fits");
        assert_eq!(held.bytes.len(), 600);
        assert_eq!(budget.available_permits(), 400, "600 taken, not more");
        // 500 declared does not fit beside it: refused before a byte counts, and the body is
        // read to its end.
        assert!(matches!(
            read_limited(
                chunks(&[250, 250]),
                4096,
                Some(500),
                &budget,
                account(1 << 20)
            )
            .await,
            Err(ReadError::Busy)
        ));
        assert_eq!(budget.available_permits(), 400);
        assert!(matches!(
            read_limited(chunks(&[]), 4096, Some(5000), &budget, account(1 << 20)).await,
            Err(ReadError::TooLarge)
        ));
        drop(held);
        assert_eq!(budget.available_permits(), 1000);
    }

    #[tokio::test]
    async fn a_client_over_its_own_share_is_refused_while_others_are_read() {
        let budget = Arc::new(Semaphore::new(10_000));
        let limits = limits(1000);
        let key =
            |a: [u8; 4]| crate::access::limits::ClientKey::of(std::net::Ipv4Addr::from(a).into());
        let held = read_limited(
            chunks(&[800]),
            4096,
            Some(800),
            &budget,
            limits.body_account(key([10, 0, 0, 1])),
        )
        .await
        .ok()
        .expect("fits");
        assert!(matches!(
            read_limited(
                chunks(&[300]),
                4096,
                Some(300),
                &budget,
                limits.body_account(key([10, 0, 0, 1]))
            )
            .await,
            Err(ReadError::ClientBusy)
        ));
        assert!(matches!(
            read_limited(
                chunks(&[100, 200]),
                4096,
                None,
                &budget,
                limits.body_account(key([10, 0, 0, 1]))
            )
            .await,
            Err(ReadError::ClientBusy)
        ));
        assert_eq!(
            budget.available_permits(),
            9_200,
            "only the held body counts"
        );
        assert!(
            read_limited(
                chunks(&[300]),
                4096,
                Some(300),
                &budget,
                limits.body_account(key([10, 0, 0, 2]))
            )
            .await
            .is_ok(),
            "another client is read"
        );
        drop(held);
        assert_eq!(budget.available_permits(), 10_000);
    }
}
