use super::*;

const LIMITS: Limits = Limits {
    idle: Duration::from_secs(620),
    header_read: Duration::from_secs(30),
};

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
    let watcher = {
        let activity = activity.clone();
        tokio::spawn(async move {
            let name = activity.watch(LIMITS).await;
            (name, Instant::now())
        })
    };
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
