//! A modern listen stream served from the handler's change feed carries what rmcp's would: the
//! same headers, the same acknowledgment (the filter narrowed by rmcp's rules), the same events
//! tagged with the subscription id; and it is served only with its stream slot.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_server::sessions::changes::Change;
use serde_json::json;

mod common;
use common::{header_map, request};

/// The next SSE event of a stream (keep-alive comments included), within a bound.
async fn next_event<B>(body: &mut B) -> String
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("an event within 5 s")
        .expect("the stream goes on")
        .unwrap();
    String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn a_listen_stream_from_the_feed_carries_what_rmcp_sends() {
    let (app, docs) = common::docs_app(|_| None);
    let filter = json!({ "notifications": {
        "toolsListChanged": true,
        "promptsListChanged": true,
        "resourcesListChanged": true,
        "resourceSubscriptions": ["docs://README.md"]
    } });
    let (headers, body) = request("subscriptions/listen", filter, json!(9));
    let bytes = serde_json::to_vec(&body).unwrap();
    let map = header_map(&headers);

    let mut slot = None;
    let ours = mcp_server::http::listen::listen(&app, &map, &bytes, true, None, &mut slot);
    assert!(ours.is_none(), "a listen stream needs its stream slot");
    let mut slot = Some(mcp_server::lifecycle::streams::StreamSlot::holding(()));
    let ours = mcp_server::http::listen::listen(&app, &map, &bytes, true, None, &mut slot)
        .expect("served from the feed");
    assert!(slot.is_none(), "the slot goes with the stream");
    let mut request = http::Request::builder().method("POST").uri("/mcp");
    *request.headers_mut().unwrap() = map.clone();
    let theirs = app
        .handle_mcp(request.body(Full::new(Bytes::from(bytes.clone()))).unwrap())
        .await;
    for name in ["content-type", "cache-control", "x-accel-buffering"] {
        assert_eq!(
            ours.headers().get(name),
            theirs.headers().get(name),
            "{name}"
        );
    }
    assert_eq!(ours.status(), theirs.status());
    let mut ours = ours.into_body();
    let mut theirs = theirs.into_body();
    // The acknowledgment (this server advertises only resource list changes: the rest is
    // narrowed out alike), then the changes the filter accepts, tagged with the subscription id.
    let ack = next_event(&mut ours).await;
    assert_eq!(ack, next_event(&mut theirs).await);
    assert!(
        ack.contains("notifications/subscriptions/acknowledged"),
        "{ack}"
    );
    for change in [
        Change::PromptsListChanged,
        Change::ResourceUpdated("docs://other.md".into()),
        Change::ToolsListChanged,
        Change::ResourceUpdated("docs://README.md".into()),
        Change::ResourcesListChanged,
    ] {
        docs.changes().publish(change);
    }
    assert!(ack.contains("resourcesListChanged"), "{ack}");
    for narrowed in ["promptsListChanged", "toolsListChanged", "README"] {
        assert!(!ack.contains(narrowed), "{ack}");
    }
    for expected in [
        "notifications/resources/list_changed",
        "notifications/resources/list_changed",
    ] {
        docs.changes().publish(Change::ResourcesListChanged);
        let event = next_event(&mut ours).await;
        assert_eq!(event, next_event(&mut theirs).await);
        assert!(
            event.contains(expected) && event.contains("subscriptionId"),
            "{event}"
        );
    }
}
