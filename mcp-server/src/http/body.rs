//! Reading a POST body once, under a size limit.

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

/// Why a body could not be had.
pub enum ReadError {
    /// Larger than `MAX_REQUEST_BODY`.
    TooLarge,
    /// Not all there within `BODY_READ_TIMEOUT`.
    Stalled,
    /// The connection failed.
    Broken(warp::Error),
}

/// The whole body, refused as soon as it passes `limit` bytes.
pub async fn read_limited<S, B>(body: S, limit: usize) -> Result<Bytes, ReadError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(ReadError::Broken)?;
        if collected.len() + chunk.remaining() > limit {
            return Err(ReadError::TooLarge);
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let n = piece.len();
            chunk.advance(n);
        }
    }
    Ok(collected.freeze())
}
