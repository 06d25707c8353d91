//! Ended sessions announced to every task: `DELETE` and the idle TTL remove a session from the
//! store and publish its key, and each task drops the session from its memory.

use std::time::Duration;

use super::SharedStore;

/// How long to wait before subscribing again to the ended channel.
const FOLLOW_RETRY: Duration = Duration::from_secs(1);

/// How often the subscription is pinged.
const FOLLOW_PING: Duration = Duration::from_secs(30);

impl SharedStore {
    /// The channel on which ended sessions' keys are announced.
    pub(super) fn ended_channel(&self) -> String {
        format!("{}ended", self.options.prefix)
    }

    /// Calls `ended` with the key of every session another task (or this one) ended, until
    /// `shutdown`; reconnects by itself when the store goes away, and pings the subscription so
    /// a connection that died silently is noticed.
    pub async fn follow_ends(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
        ended: impl Fn(String),
    ) {
        use futures::StreamExt;
        let channel = self.ended_channel();
        let deadline = self.options.timeout;
        while !shutdown.is_cancelled() {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub.split())
            };
            let (mut sink, mut messages) = match tokio::time::timeout(deadline, subscribed).await {
                Ok(Ok(split)) => split,
                _ => {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(FOLLOW_RETRY) => continue,
                    }
                }
            };
            let mut pings = tokio::time::interval(FOLLOW_PING);
            pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    message = messages.next() => match message {
                        Some(message) => {
                            if let Ok(key) = message.get_payload::<String>() {
                                ended(key);
                            }
                        }
                        None => break,
                    },
                    _ = pings.tick() => {
                        // Subscribed, the answer is `["pong", ""]`, not `PONG`.
                        let pinged =
                            tokio::time::timeout(deadline, sink.ping::<redis::Value>()).await;
                        if !matches!(pinged, Ok(Ok(_))) {
                            break;
                        }
                    }
                }
            }
            tracing::warn!("session store subscription lost; subscribing again");
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(FOLLOW_RETRY) => {}
            }
        }
    }
}
