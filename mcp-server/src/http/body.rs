//! Reading a POST body once, under a size limit and a budget shared by every request.

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a body could not be had.
pub enum ReadError {
    /// Larger than `MAX_REQUEST_BODY`.
    TooLarge,
    /// The bodies being received together would pass `MAX_BODY_BYTES_IN_FLIGHT`.
    Busy,
    /// Not all there within `BODY_READ_TIMEOUT`.
    Stalled,
    /// The connection failed.
    Broken(warp::Error),
}

/// A body read whole, and its share of the body budget (given back when dropped).
pub struct ReadBody {
    pub bytes: Bytes,
    _share: Option<OwnedSemaphorePermit>,
}

/// The whole body, refused as soon as it passes `limit` bytes. Its bytes are taken from
/// `budget` (one permit per byte) as they arrive; once they would pass what is left there, what
/// was read is let go and the rest is read and thrown away (so the connection can carry the
/// answer and the next request), and the body is refused as [`ReadError::Busy`].
pub async fn read_limited<S, B>(
    body: S,
    limit: usize,
    budget: &Arc<Semaphore>,
) -> Result<ReadBody, ReadError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    let mut share: Option<OwnedSemaphorePermit> = None;
    let mut received = 0usize;
    let mut busy = false;
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(ReadError::Broken)?;
        received += chunk.remaining();
        if received > limit {
            return Err(ReadError::TooLarge);
        }
        if busy {
            chunk.advance(chunk.remaining());
            continue;
        }
        // Under `limit`, so it fits in a u32 permit count for any sane limit.
        let wanted = u32::try_from(chunk.remaining()).map_err(|_| ReadError::TooLarge)?;
        if wanted > 0 {
            match budget.clone().try_acquire_many_owned(wanted) {
                Ok(more) => match share.as_mut() {
                    Some(held) => held.merge(more),
                    None => share = Some(more),
                },
                Err(_) => {
                    busy = true;
                    share = None;
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
    if busy {
        return Err(ReadError::Busy);
    }
    Ok(ReadBody {
        bytes: collected.freeze(),
        _share: share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let first = read_limited(chunks(&[300, 300]), 4096, &budget)
            .await
            .ok()
            .expect("fits");
        assert_eq!(first.bytes.len(), 600);
        assert_eq!(budget.available_permits(), 400);
        // A second body that would pass what is left is refused, and gives back what it took.
        assert!(matches!(
            read_limited(chunks(&[200, 300]), 4096, &budget).await,
            Err(ReadError::Busy)
        ));
        assert_eq!(budget.available_permits(), 400);
        // One that fits is read; an empty one takes nothing.
        let small = read_limited(chunks(&[100]), 4096, &budget).await.ok();
        assert_eq!(budget.available_permits(), 300);
        assert!(read_limited(chunks(&[]), 4096, &budget).await.is_ok());
        drop((first, small));
        assert_eq!(budget.available_permits(), 1000);
        assert!(matches!(
            read_limited(chunks(&[5000]), 4096, &budget).await,
            Err(ReadError::TooLarge)
        ));
        assert_eq!(budget.available_permits(), 1000);
    }
}
