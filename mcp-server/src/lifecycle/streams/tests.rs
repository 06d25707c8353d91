use super::*;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};

fn tracker(max_age_ms: u64) -> Arc<StreamTracker> {
    Arc::new(StreamTracker::new(
        Duration::from_millis(1500),
        Duration::from_millis(max_age_ms),
    ))
}

/// An SSE body that sends `events` and then stays open until `rx` closes.
fn body(
    events: Vec<&'static str>,
) -> (
    BoxBody<Bytes, Infallible>,
    tokio::sync::mpsc::Sender<&'static str>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<&'static str>(8);
    let stream = futures::stream::iter(events)
        .chain(tokio_stream_from(rx))
        .map(|e| Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(e))));
    (BodyExt::boxed(StreamBody::new(stream)), tx)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<&'static str>,
) -> impl Stream<Item = &'static str> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test(start_paused = true)]
async fn a_long_stream_ends_with_a_retry_field_at_its_deadline() {
    let tracker = tracker(10_000);
    let (body, _tx) = body(vec!["data: a\n\n"]);
    let mut stream = Box::pin(tracker.track(body, StreamKind::Get, None, None));
    assert_eq!(tracker.open(), 1);
    assert_eq!(stream.next().await.unwrap().unwrap(), "data: a\n\n");
    let started = tokio::time::Instant::now();
    assert_eq!(stream.next().await.unwrap().unwrap(), "retry: 1500\n\n");
    assert_eq!(started.elapsed(), Duration::from_millis(10_000));
    assert!(stream.next().await.is_none());
    assert_eq!(tracker.open(), 1, "counted until the body is dropped");
    drop(stream);
    assert_eq!(tracker.open(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_request_stream_answers_its_request_with_an_error_at_its_deadline() {
    let tracker = tracker(5_000);
    let (body, _tx) = body(vec![]);
    let mut stream =
        Box::pin(tracker.track(body, StreamKind::Request(serde_json::json!(7)), None, None));
    let event = stream.next().await.unwrap().unwrap();
    let text = std::str::from_utf8(&event).unwrap();
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let error: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(error["id"], 7);
    assert_eq!(error["error"]["code"], REQUEST_TIMEOUT_CODE);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn ending_long_lived_streams_spares_request_streams_and_later_streams() {
    let tracker = tracker(1_000_000);
    let (body_a, _tx_a) = body(vec![]);
    let mut listen = Box::pin(tracker.track(body_a, StreamKind::Listen, None, None));
    let (body_r, tx_r) = body(vec![]);
    let mut request = Box::pin(tracker.track(
        body_r,
        StreamKind::Request(serde_json::json!(1)),
        None,
        None,
    ));
    assert_eq!(tracker.open_long_lived(), 1);
    assert_eq!(tracker.end_long_lived(), 1);
    assert_eq!(listen.next().await.unwrap().unwrap(), "retry: 1500\n\n");
    assert!(listen.next().await.is_none());
    // The request stream still delivers its answer, then ends on its own.
    tx_r.send("data: answer\n\n").await.unwrap();
    drop(tx_r);
    assert_eq!(request.next().await.unwrap().unwrap(), "data: answer\n\n");
    assert!(request.next().await.is_none());
    // A stream opened afterwards (a guessed drain was undone) is not ended.
    let (body_b, tx_b) = body(vec![]);
    let mut later = Box::pin(tracker.track(body_b, StreamKind::Get, None, None));
    tx_b.send("data: x\n\n").await.unwrap();
    assert_eq!(later.next().await.unwrap().unwrap(), "data: x\n\n");
    drop((listen, request, later));
    assert_eq!(tracker.open(), 0);
    assert_eq!(tracker.open_long_lived(), 0);
}

#[tokio::test(start_paused = true)]
async fn pending_events_go_out_before_the_stream_is_cut() {
    let tracker = tracker(1_000);
    let (body, tx) = body(vec![]);
    let mut stream = Box::pin(tracker.track(body, StreamKind::Get, None, None));
    tokio::time::advance(Duration::from_millis(2_000)).await;
    tx.send("data: late\n\n").await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), "data: late\n\n");
    assert_eq!(stream.next().await.unwrap().unwrap(), "retry: 1500\n\n");
}

#[tokio::test]
async fn normal_end_and_disconnect_both_bring_the_count_back_down() {
    let tracker = tracker(1_000_000);
    let (body_a, tx_a) = body(vec!["data: x\n\n"]);
    let mut a = Box::pin(tracker.track(body_a, StreamKind::Get, None, None));
    let (body_b, _tx_b) = body(vec![]);
    let b = Box::pin(tracker.track(body_b, StreamKind::Get, None, None));
    assert_eq!(tracker.open(), 2);
    drop(tx_a);
    assert!(a.next().await.is_some());
    assert!(a.next().await.is_none());
    drop(a);
    drop(b);
    assert_eq!(tracker.open(), 0);
    assert_eq!(tracker.opened_total(), 2);
}

#[tokio::test]
async fn reserving_checks_and_counts_in_one_step() {
    let tracker = tracker(1_000_000);
    let taken: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|_| scope.spawn(|| tracker.reserve_long_lived(10)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let slots: Vec<StreamSlot> = taken.into_iter().flatten().collect();
    assert_eq!(slots.len(), 10);
    assert_eq!(tracker.open_long_lived(), 10);
    assert!(tracker.reserve_long_lived(10).is_none());
    // A slot that becomes a stream keeps its count until the stream ends; one dropped unused
    // gives it back at once.
    let mut slots = slots.into_iter();
    let (body, _tx) = body(vec![]);
    let stream = tracker.track(body, StreamKind::Listen, None, slots.next());
    assert_eq!(tracker.open_long_lived(), 10);
    drop(slots);
    assert_eq!(tracker.open_long_lived(), 1);
    drop(stream);
    assert_eq!(tracker.open_long_lived(), 0);
}
