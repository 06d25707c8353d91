use super::*;

const LIMITS: Limits = Limits {
    idle: Duration::from_secs(620),
    header_read: Duration::from_secs(30),
    write: Duration::from_secs(10),
};

/// Runs the watcher in a task; it reports the limit that expired and when.
fn watching(activity: &Arc<Activity>) -> tokio::task::JoinHandle<(&'static str, Instant)> {
    let activity = activity.clone();
    tokio::spawn(async move {
        let name = activity.watch(LIMITS).await;
        (name, Instant::now())
    })
}

#[tokio::test(start_paused = true)]
async fn an_answer_the_client_never_reads_gets_the_write_timeout_even_in_flight() {
    let activity = Arc::new(Activity::new());
    activity.bytes_read();
    let _guard = activity.request_started();
    let watcher = watching(&activity);
    tokio::time::sleep(Duration::from_secs(100)).await;
    activity.write_waiting();
    let stalled = Instant::now();
    // Later writes that also wait do not move the deadline.
    tokio::time::sleep(Duration::from_secs(5)).await;
    activity.write_waiting();
    let (name, at) = watcher.await.unwrap();
    assert_eq!(name, "WRITE_TIMEOUT");
    assert_eq!(at - stalled, Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_new_connection_that_sends_nothing_gets_the_header_timeout() {
    let activity = Arc::new(Activity::new());
    let started = Instant::now();
    assert_eq!(activity.watch(LIMITS).await, "HEADER_READ_TIMEOUT");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_between_requests_lasts_the_idle_timeout() {
    let activity = Arc::new(Activity::new());
    activity.bytes_read();
    drop(activity.request_started());
    let started = Instant::now();
    assert_eq!(activity.watch(LIMITS).await, "HTTP_IDLE_TIMEOUT");
    assert_eq!(started.elapsed(), Duration::from_secs(620));
}

#[tokio::test(start_paused = true)]
async fn a_started_request_must_finish_its_headers_in_time() {
    let activity = Arc::new(Activity::new());
    activity.bytes_read();
    drop(activity.request_started());
    tokio::time::advance(Duration::from_secs(100)).await;
    activity.bytes_read();
    let started = Instant::now();
    assert_eq!(activity.watch(LIMITS).await, "HEADER_READ_TIMEOUT");
    assert_eq!(started.elapsed(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_is_never_timed_out_and_idle_restarts_after_it() {
    let activity = Arc::new(Activity::new());
    activity.bytes_read();
    let guard = activity.request_started();
    let watcher = watching(&activity);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!watcher.is_finished());
    // Bytes read while busy (a request body) do not start a header timer.
    activity.bytes_read();
    let finished = Instant::now();
    drop(guard);
    let (name, at) = watcher.await.unwrap();
    assert_eq!(name, "HTTP_IDLE_TIMEOUT");
    assert_eq!(at - finished, Duration::from_secs(620));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_reads_again_in_time_keeps_its_connection() {
    let activity = Arc::new(Activity::new());
    activity.bytes_read();
    let guard = activity.request_started();
    let watcher = watching(&activity);
    activity.write_waiting();
    tokio::time::sleep(Duration::from_secs(9)).await;
    activity.write_done();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!watcher.is_finished());
    // A new stall starts a new deadline.
    activity.write_waiting();
    let stalled = Instant::now();
    let (name, at) = watcher.await.unwrap();
    assert_eq!(name, "WRITE_TIMEOUT");
    assert_eq!(at - stalled, Duration::from_secs(10));
    drop(guard);
}

#[tokio::test(start_paused = true)]
async fn http2_frames_between_requests_do_not_start_the_header_deadline() {
    let activity = Arc::new(Activity::new());
    activity.multiplexed.store(true, Ordering::Relaxed);
    drop(activity.request_started());
    let idle_since = Instant::now();
    let watcher = watching(&activity);
    // A PING or WINDOW_UPDATE now and then.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(40)).await;
        activity.bytes_read();
    }
    let (name, at) = watcher.await.unwrap();
    assert_eq!(name, "HTTP_IDLE_TIMEOUT");
    assert_eq!(at - idle_since, Duration::from_secs(620));
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_wins_over_an_idle_phase_written_late() {
    let activity = Arc::new(Activity::new());
    let first = activity.request_started();
    let second = activity.request_started();
    drop(first);
    // The ending stream's `set(IDLE)` landing after the other stream's `set(BUSY)`.
    activity.set(IDLE, true);
    let watcher = watching(&activity);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!watcher.is_finished());
    drop(second);
    let (name, _) = watcher.await.unwrap();
    assert_eq!(name, "HTTP_IDLE_TIMEOUT");
}

/// Feeds `reads` in turn; what the matcher decided, and at which read.
fn preface_of(reads: &[&[u8]]) -> Option<(bool, usize)> {
    let mut preface = PrefaceMatch::default();
    reads
        .iter()
        .enumerate()
        .find_map(|(i, bytes)| preface.feed(bytes).map(|h2| (h2, i)))
}

#[test]
fn the_http2_preface_is_told_from_http1_requests_over_any_reads() {
    let preface: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert_eq!(
        preface_of(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12"]),
        Some((true, 0))
    );
    // One byte at a time, as a slow or hostile client may send it.
    let bytes: Vec<&[u8]> = preface.chunks(1).collect();
    assert_eq!(preface_of(&bytes), Some((true, 23)));
    assert_eq!(
        preface_of(&[b"PR", b"I * HTTP/2.0\r\n\r\nSM\r\n\r\n"]),
        Some((true, 1))
    );
    assert_eq!(preface_of(&[b"PRI * HT"]), None, "undecided");
    assert_eq!(preface_of(&[b"POST /mcp HTTP/1.1\r\n"]), Some((false, 0)));
    assert_eq!(preface_of(&[b"PRI", b"X"]), Some((false, 1)));
    // Decided once: later bytes change nothing.
    let mut matcher = PrefaceMatch::default();
    assert_eq!(matcher.feed(b"GET"), Some(false));
    assert_eq!(matcher.feed(preface), None);
}
