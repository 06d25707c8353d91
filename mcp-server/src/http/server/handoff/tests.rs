use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc;
use http_body::Frame;
use http_body_util::StreamBody;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::http::server::watch::Limits;

type Sent = Result<Frame<Bytes>, BoxError>;

/// A connected pair on loopback: (the server's side, the client's side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (server, client)
}

/// A body whose frames the test sends.
fn body() -> (mpsc::UnboundedSender<Sent>, ParkedBody) {
    let (tx, rx) = mpsc::unbounded();
    (tx, Box::pin(StreamBody::new(rx)))
}

/// A handed-off stream being served on loopback: the client's side, the sender of the body's
/// frames, the connection's activity and the serving task.
struct Serving {
    client: TcpStream,
    tx: mpsc::UnboundedSender<Sent>,
    activity: Arc<Activity>,
    task: tokio::task::JoinHandle<()>,
}

async fn serving() -> Serving {
    let (server, client) = pair().await;
    let (tx, body) = body();
    let activity = Arc::new(Activity::new());
    let task = tokio::spawn({
        let activity = activity.clone();
        async move { serve(server, body, &activity).await }
    });
    Serving {
        client,
        tx,
        activity,
        task,
    }
}

fn data(bytes: &'static [u8]) -> Sent {
    Ok(Frame::data(Bytes::from_static(bytes)))
}

/// What the client reads until the server closes (bounded).
async fn read_to_close(client: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut seen))
        .await
        .expect("the server closes the connection")
        .unwrap();
    seen
}

#[test]
fn a_chunk_is_its_size_in_hex_the_bytes_and_a_line_end() {
    assert_eq!(chunk(b"data: x\n\n"), b"9\r\ndata: x\n\n\r\n");
    assert_eq!(&chunk(&[b'a'; 300])[..5], b"12C\r\n");
}

#[tokio::test]
async fn each_frame_is_a_chunk_and_the_end_is_the_last_chunk_then_the_close() {
    let Serving {
        mut client,
        tx,
        task: serving,
        ..
    } = serving().await;
    tx.unbounded_send(data(b": \n\n")).unwrap();
    tx.unbounded_send(data(b"")).unwrap();
    tx.unbounded_send(data(b"data: {}\n\n")).unwrap();
    drop(tx);
    let seen = read_to_close(&mut client).await;
    assert_eq!(seen, b"4\r\n: \n\n\r\nA\r\ndata: {}\n\n\r\n0\r\n\r\n");
    serving.await.unwrap();
}

#[tokio::test]
async fn a_failed_body_is_cut_short_without_the_last_chunk() {
    let Serving {
        mut client,
        tx,
        task: serving,
        ..
    } = serving().await;
    tx.unbounded_send(data(b"data: 1\n\n")).unwrap();
    tx.unbounded_send(Err("the stream failed".into())).unwrap();
    let seen = read_to_close(&mut client).await;
    assert_eq!(seen, b"9\r\ndata: 1\n\n\r\n");
    serving.await.unwrap();
}

#[tokio::test]
async fn bytes_the_client_sends_are_thrown_away_and_the_stream_goes_on() {
    let Serving {
        mut client,
        tx,
        task: serving,
        ..
    } = serving().await;
    let pipelined = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n".repeat(100);
    client.write_all(&pipelined).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.unbounded_send(data(b"data: 2\n\n")).unwrap();
    drop(tx);
    let seen = read_to_close(&mut client).await;
    assert_eq!(seen, b"9\r\ndata: 2\n\n\r\n0\r\n\r\n");
    serving.await.unwrap();
}

#[tokio::test]
async fn a_client_that_keeps_sending_is_closed_past_the_discarded_bytes() {
    let Serving {
        mut client,
        tx,
        task: serving,
        ..
    } = serving().await;
    let junk = vec![b'x'; DISCARDED_BYTES + 1];
    // The server may close before it has read it all (then the write fails): either way.
    let _ = client.write_all(&junk).await;
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("the stream ends")
        .unwrap();
    drop(tx);
}

#[tokio::test]
async fn the_client_closing_ends_the_stream_while_it_waits_for_an_event() {
    let Serving {
        client,
        tx: _tx,
        task: serving,
        ..
    } = serving().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!serving.is_finished());
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("the stream ends when its client leaves")
        .unwrap();
}

#[tokio::test]
async fn a_client_that_reads_nothing_gets_the_write_timeout() {
    let Serving {
        client: _client,
        tx,
        activity,
        task: serving,
    } = serving().await;
    let _request = activity.request_started();
    // Far more than the two sockets' buffers hold: the server's writes soon wait.
    static MIB: [u8; 1 << 20] = [b'x'; 1 << 20];
    for _ in 0..64 {
        tx.unbounded_send(Ok(Frame::data(Bytes::from_static(&MIB))))
            .unwrap();
    }
    let limits = Limits {
        idle: Duration::from_secs(60),
        header_read: Duration::from_secs(60),
        write: Duration::from_millis(300),
    };
    let expired = tokio::time::timeout(Duration::from_secs(10), activity.watch(limits))
        .await
        .expect("the write deadline passes");
    assert_eq!(expired, "WRITE_TIMEOUT");
    assert!(!serving.is_finished(), "still waiting on the socket");
    serving.abort();
}
