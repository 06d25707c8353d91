//! What the journal does without a store: request streams, ids, and what a resume names (the
//! session streams against a real redis-server are tested in `tests/tests/session_store.rs`).

use std::time::Duration;

use futures::StreamExt;
use rmcp::model::{
    CallToolResult, ContentBlock, JsonRpcResponse, NumberOrString, ServerNotification, ServerResult,
};

use super::*;
use crate::sessions::store::tests::store_nowhere;

fn journal() -> Journal {
    Journal::new(Arc::new(store_nowhere("t:", Duration::from_millis(100))))
}

fn answer(text: &str) -> ServerSseMessage {
    ServerSseMessage::from_message(ServerJsonRpcMessage::Response(JsonRpcResponse {
        jsonrpc: Default::default(),
        id: NumberOrString::Number(1),
        result: ServerResult::CallToolResult(CallToolResult::success(vec![ContentBlock::text(
            text,
        )])),
    }))
}

fn notice() -> ServerSseMessage {
    ServerSseMessage::from_message(ServerJsonRpcMessage::notification(
        ServerNotification::ResourceListChangedNotification(Default::default()),
    ))
}

const STREAM: &str = "0f8e4b8a-7c39-4c53-9a4a-2f1c9a0d6b11";

fn hash() -> String {
    "ab".repeat(32)
}

async fn ids(stream: EventStream) -> Vec<String> {
    tokio::time::timeout(Duration::from_secs(2), stream.collect::<Vec<_>>())
        .await
        .expect("the stream ends")
        .into_iter()
        .map(|e| e.event_id.expect("an id"))
        .collect()
}

#[test]
fn a_resume_names_the_asking_session_and_what_it_saw() {
    let h = hash();
    assert_eq!(
        parse_resume(&format!("{h}:1764712345678-3")),
        Some(Resume::Session {
            hash: &h,
            after: Some(Entry(1764712345678, 3))
        })
    );
    // Ids that are not store entries (local ones, rmcp's "0", garbage) resume live.
    for other in ["l7", "0", "", "x-y", "1-2-3", "../../etc"] {
        assert_eq!(
            parse_resume(&format!("{h}:{other}")),
            Some(Resume::Session {
                hash: &h,
                after: None
            }),
            "{other:?}"
        );
    }
    assert_eq!(
        parse_resume(&format!("{h}:{STREAM}.4")),
        Some(Resume::Request {
            hash: &h,
            stream: STREAM,
            index: 4
        })
    );
    // Without the endpoint's hash in front, nothing is resumed.
    assert_eq!(parse_resume("1764712345678-3"), None);
    assert_eq!(parse_resume(&format!("{}:1-0", "AB".repeat(32))), None);
    assert_eq!(parse_resume(&format!("{}:1-0", "ab".repeat(31))), None);
}

#[test]
fn entries_order_by_time_then_sequence() {
    assert!(Entry(2, 0) > Entry(1, 9));
    assert!(Entry(1, 10) > Entry(1, 9));
    assert_eq!(Entry::parse("5-7"), Some(Entry(5, 7)));
    assert_eq!(Entry(5, 7).to_string(), "5-7");
    // Replays start at the entry after the client's, computed here: no exclusive range to fail.
    assert_eq!(Entry(5, 7).next(), Some(Entry(5, 8)));
    assert_eq!(Entry(5, u64::MAX).next(), Some(Entry(6, 0)));
    assert_eq!(Entry(u64::MAX, u64::MAX).next(), None);
}

#[test]
fn a_stored_event_reads_back_as_it_was_sent() {
    let mut event = notice();
    event.retry = Some(Duration::from_millis(3000));
    let stored = StoredEvent {
        format: FORMAT,
        message: event.message.as_deref().cloned(),
        retry_ms: Some(3000),
    };
    let bytes = serde_json::to_vec(&stored).unwrap();
    let back = decode("9-1", &bytes).expect("ours");
    assert_eq!(back.event_id.as_deref(), Some("9-1"));
    assert_eq!(back.retry, Some(Duration::from_millis(3000)));
    assert_eq!(
        serde_json::to_value(back.message.as_deref()).unwrap(),
        serde_json::to_value(event.message.as_deref()).unwrap()
    );
    assert!(decode("9-2", b"{\"hello\":1}").is_none(), "foreign");
    assert!(decode("9-3", b"not json").is_none());
    let other = br#"{"docs-mcp-event":2}"#;
    assert!(decode("9-4", other).is_none(), "another version");
}

#[tokio::test]
async fn a_request_stream_resumes_after_the_id_and_ends_with_the_answer() {
    let journal = journal();
    let priming = ServerSseMessage::retry(Duration::from_secs(3));
    let first = journal.store_event(STREAM, &priming).await.unwrap();
    assert_eq!(first, format!("{STREAM}.0"));
    let second = journal.store_event(STREAM, &notice()).await.unwrap();
    assert_eq!(second, format!("{STREAM}.1"));
    // Its first event went out to the session that made the request.
    journal.owned_by(&first, &Arc::from(hash()));

    // Resumed before the answer: what followed the id, then live until the answer.
    let resumed = journal
        .replay_events_after(&format!("{}:{first}", hash()))
        .await
        .unwrap();
    let answered = journal.store_event(STREAM, &answer("done")).await.unwrap();
    assert_eq!(ids(resumed).await, vec![second.clone(), answered.clone()]);

    // Resumed after the answer: the rest, and the stream ends.
    let again = journal
        .replay_events_after(&format!("{}:{second}", hash()))
        .await
        .unwrap();
    assert_eq!(ids(again).await, vec![answered]);
}

#[tokio::test]
async fn an_unknown_request_stream_resumes_empty() {
    let journal = journal();
    let other = "11111111-2222-3333-4444-555555555555";
    let resumed = journal
        .replay_events_after(&format!("{}:{other}.0", hash()))
        .await
        .unwrap();
    assert!(ids(resumed).await.is_empty());
    assert!(
        journal
            .replay_events_after("no hash in front")
            .await
            .is_err(),
        "only the endpoint's ids are resumed"
    );
}

#[tokio::test(start_paused = true)]
async fn answered_request_streams_go_after_their_time_and_the_count_is_bounded() {
    let journal = journal();
    journal.store_event(STREAM, &answer("a")).await.unwrap();
    assert_eq!(journal.request_streams(), 1);
    tokio::time::advance(REQUEST_STREAM_TTL + Duration::from_secs(1)).await;
    let other = "11111111-2222-3333-4444-555555555555";
    journal.store_event(other, &notice()).await.unwrap();
    assert_eq!(journal.request_streams(), 1, "the answered one expired");

    for n in 0..MAX_REQUEST_STREAMS + 10 {
        let name = format!("{n:08}-0000-0000-0000-000000000000");
        journal.store_event(&name, &notice()).await.unwrap();
    }
    assert!(journal.request_streams() <= MAX_REQUEST_STREAMS + 1);
}

#[tokio::test]
async fn a_request_stream_keeps_its_latest_events_only() {
    let journal = journal();
    for _ in 0..MAX_REQUEST_EVENTS * 2 {
        let id = journal.store_event(STREAM, &notice()).await.unwrap();
        journal.owned_by(&id, &Arc::from(hash()));
    }
    let resumed = journal
        .replay_events_after(&format!("{}:{STREAM}.0", hash()))
        .await
        .unwrap();
    journal.store_event(STREAM, &answer("x")).await.unwrap();
    let got = ids(resumed).await;
    assert_eq!(
        got.len(),
        MAX_REQUEST_EVENTS + 1,
        "kept ones, then the answer"
    );
    assert_eq!(
        got.last().unwrap(),
        &format!("{STREAM}.{}", MAX_REQUEST_EVENTS * 2)
    );
}

#[tokio::test]
async fn only_the_session_that_made_a_request_resumes_its_stream_until_its_answer_is_delivered() {
    let journal = journal();
    let first = journal
        .store_event(STREAM, &ServerSseMessage::retry(Duration::from_secs(3)))
        .await
        .unwrap();
    journal.owned_by(&first, &Arc::from(hash()));
    // Noted once: a later event does not change the owner.
    journal.owned_by(&first, &Arc::from("cd".repeat(32)));
    let answered = journal.store_event(STREAM, &answer("x")).await.unwrap();
    let intruder = journal
        .replay_events_after(&format!("{}:{first}", "cd".repeat(32)))
        .await
        .unwrap();
    assert!(ids(intruder).await.is_empty(), "another session's id");
    let owner = journal
        .replay_events_after(&format!("{}:{first}", hash()))
        .await
        .unwrap();
    assert_eq!(ids(owner).await, vec![answered.clone()]);
    // Once the answer reached the client, nothing is kept.
    journal.delivered(&answered);
    assert_eq!(journal.request_streams(), 0);
}

#[tokio::test]
async fn a_session_event_goes_out_with_a_local_id_while_the_store_is_down() {
    let journal = journal();
    // The store is not there: the first write fails (and marks it down), later ones skip it.
    let first = journal
        .store_event("session-1:common", &notice())
        .await
        .unwrap();
    let second = journal
        .store_event("session-1:common", &notice())
        .await
        .unwrap();
    assert!(
        first.starts_with('l') && second.starts_with('l'),
        "{first} {second}"
    );
    assert_ne!(first, second);
    // Nothing to replay after a local id, nor when the store cannot be read.
    let h = journal.session_hash("session-1");
    for after in [first.as_str(), "1-0"] {
        let resumed = journal
            .replay_events_after(&format!("{h}:{after}"))
            .await
            .unwrap();
        assert!(ids(resumed).await.is_empty());
    }
}
