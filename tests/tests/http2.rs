//! HTTP/2 (prior knowledge) against the real binary: requests and a held stream share one
//! connection, and the frames a client sends between requests (PINGs) are not taken for a new
//! request's headers: the connection lives for `HTTP_IDLE_TIMEOUT`, not `HEADER_READ_TIMEOUT`.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::{Value, json};
use tests::Server;
use tests::http::{ACCEPT_BOTH, MODERN_VERSION, modern_meta};

/// An HTTP/2 connection that PINGs the server every `ping` while idle.
async fn connect(addr: SocketAddr, ping: Duration) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(ping)
        .keep_alive_timeout(Duration::from_secs(5))
        .keep_alive_while_idle(true)
        .handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/2 handshake");
    tokio::spawn(connection);
    sender
}

fn modern_post(
    addr: SocketAddr,
    method: &str,
    id: i64,
    mut params: Value,
) -> http::Request<Full<Bytes>> {
    params["_meta"] = modern_meta();
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    http::Request::post(format!("http://{addr}/mcp"))
        .header("content-type", "application/json")
        .header("accept", ACCEPT_BOTH)
        .header("mcp-protocol-version", MODERN_VERSION)
        .header("mcp-method", method)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn tools_list(sender: &mut SendRequest<Full<Bytes>>, addr: SocketAddr, id: i64) -> Value {
    sender.ready().await.expect("connection still open");
    let response = sender
        .send_request(modern_post(addr, "tools/list", id, json!({})))
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn an_http2_connection_carries_requests_and_a_stream_and_pings_do_not_end_it() {
    let server = Server::start(&[
        ("HEADER_READ_TIMEOUT", "500"),
        ("HTTP_IDLE_TIMEOUT", "60000"),
    ]);
    let addr = server.addr;
    let mut sender = connect(addr, Duration::from_millis(150)).await;
    let first = tools_list(&mut sender, addr, 1).await;
    assert!(first["result"]["tools"].is_array(), "{first}");

    // A listen stream held on the same connection.
    sender.ready().await.unwrap();
    let listen = sender
        .send_request(modern_post(
            addr,
            "subscriptions/listen",
            2,
            json!({ "notifications": { "toolsListChanged": true } }),
        ))
        .await
        .expect("the stream opens");
    assert_eq!(listen.status(), 200);
    let mut body = listen.into_body();
    let acknowledgment = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("acknowledged in time")
        .expect("a frame")
        .expect("data");
    let text = String::from_utf8_lossy(acknowledgment.data_ref().unwrap()).into_owned();
    assert!(
        text.contains("subscriptions/acknowledged") && text.contains("subscriptionId\":2"),
        "{text}"
    );
    drop(body);

    // Four header timeouts of PINGs and nothing else: the connection is idle, not reading
    // headers, and is still there for the next request.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let later = tools_list(&mut sender, addr, 3).await;
    assert_eq!(later["result"], first["result"]);
    assert_eq!(tests::http::health(addr).await["ok"], true);
}
