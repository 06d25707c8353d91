//! Change notifications: one feed, delivered to both eras.
//!
//! When what a server offers changes (its tools, prompts or resources, or one resource's
//! content), clients are told: modern clients on the `subscriptions/listen` streams they opened,
//! each only what its filter accepted (rmcp's subscription sink enforces the filter and tags each
//! notification with the subscription id); legacy clients on their session, through their peer.
//! Handlers publish a [`Change`]; everything else is here.

use rmcp::model::{
    GetMeta, PromptListChangedNotification, RequestId, ResourceListChangedNotification,
    ResourceUpdatedNotification, ResourceUpdatedNotificationParam, ServerNotification,
    SubscriptionFilter, ToolListChangedNotification,
};
use rmcp::service::{Peer, SubscriptionContext, SubscriptionSendError};
use rmcp::{ErrorData, RoleServer};
use tokio::sync::broadcast;

use super::scope::SessionScope;

/// Something a client may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `notifications/tools/list_changed`.
    ToolsListChanged,
    /// `notifications/prompts/list_changed`.
    PromptsListChanged,
    /// `notifications/resources/list_changed`.
    ResourcesListChanged,
    /// `notifications/resources/updated` for one URI.
    ResourceUpdated(String),
}

/// Changes in flight at once per receiver before a slow one starts missing them.
const CAPACITY: usize = 256;

/// The broadcast every subscription and legacy session listens to.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl ChangeFeed {
    /// Tells every listener; returns how many received it.
    pub fn publish(&self, change: Change) -> usize {
        self.sender.send(change).unwrap_or(0)
    }

    /// A receiver of every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// The filter a modern `subscriptions/listen` gets: what it asked for (rmcp then narrows it
    /// to what the server advertises).
    pub fn accept(requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    /// Serves one modern subscription until the client cancels it (closes its stream).
    pub async fn serve(&self, subscription: SubscriptionContext) -> Result<(), ErrorData> {
        let mut changes = self.sender.subscribe();
        let sink = subscription.sink();
        loop {
            let change = tokio::select! {
                () = subscription.cancelled() => return Ok(()),
                change = changes.recv() => change,
            };
            let change = match change {
                Ok(change) => change,
                // Missed some: a list-changed is idempotent, so carry on with the next.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let sent = match change {
                Change::ToolsListChanged => sink.notify_tool_list_changed().await,
                Change::PromptsListChanged => sink.notify_prompt_list_changed().await,
                Change::ResourcesListChanged => sink.notify_resource_list_changed().await,
                Change::ResourceUpdated(uri) => sink.notify_resource_updated(uri).await,
            };
            match sent {
                Ok(()) | Err(SubscriptionSendError::NotificationNotAccepted(_)) => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// The notification a listen stream with filter `accepted` gets for `change`, as rmcp's
    /// subscription sink builds it (tagged with the subscription id), or `None` when the filter
    /// does not accept it.
    pub fn notification(
        change: &Change,
        accepted: &SubscriptionFilter,
        subscription: &RequestId,
    ) -> Option<ServerNotification> {
        let mut notification = match change {
            Change::ToolsListChanged if accepted.tools_list_changed == Some(true) => {
                ServerNotification::ToolListChangedNotification(ToolListChangedNotification {
                    method: Default::default(),
                    extensions: Default::default(),
                })
            }
            Change::PromptsListChanged if accepted.prompts_list_changed == Some(true) => {
                ServerNotification::PromptListChangedNotification(PromptListChangedNotification {
                    method: Default::default(),
                    extensions: Default::default(),
                })
            }
            Change::ResourcesListChanged if accepted.resources_list_changed == Some(true) => {
                ServerNotification::ResourceListChangedNotification(
                    ResourceListChangedNotification {
                        method: Default::default(),
                        extensions: Default::default(),
                    },
                )
            }
            Change::ResourceUpdated(uri)
                if accepted
                    .resource_subscriptions
                    .as_ref()
                    .is_some_and(|uris| uris.contains(uri)) =>
            {
                ServerNotification::ResourceUpdatedNotification(ResourceUpdatedNotification::new(
                    ResourceUpdatedNotificationParam::new(uri.clone()),
                ))
            }
            _ => return None,
        };
        notification
            .get_meta_mut()
            .set_subscription_id(subscription.clone());
        Some(notification)
    }

    /// Receivers listening now: listen streams and legacy sessions being followed.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Forwards list changes to one legacy session until it goes away (its `scope` ends, or a
    /// notification cannot be delivered). Resource updates are left to the handler, which knows
    /// the session's `resources/subscribe` list.
    /// Only the first call for a session starts a follower.
    pub fn follow_legacy_session(&self, peer: Peer<RoleServer>, scope: &SessionScope) {
        if !scope.first_follow() {
            return;
        }
        let mut changes = self.sender.subscribe();
        let ended = scope.ended();
        tokio::spawn(async move {
            let mut ended = std::pin::pin!(ended);
            loop {
                let change = tokio::select! {
                    () = &mut ended => return,
                    change = changes.recv() => change,
                };
                let change = match change {
                    Ok(change) => change,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let sent = match change {
                    Change::ToolsListChanged => peer.notify_tool_list_changed().await,
                    Change::PromptsListChanged => peer.notify_prompt_list_changed().await,
                    Change::ResourcesListChanged => peer.notify_resource_list_changed().await,
                    Change::ResourceUpdated(_) => Ok(()),
                };
                if sent.is_err() || peer.is_transport_closed() {
                    return;
                }
            }
        });
    }
}
