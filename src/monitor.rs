//! Watches a held lock node for loss (session ended, node deleted) and for
//! revocation requests, and publishes what it sees on a `watch` channel.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use zookeeper_client::{Client, EventType, SessionState};

use crate::names::REVOKE_MESSAGE;

/// Why a held lock was lost.
///
/// ```no_run
/// # async fn demo(guard: zkurator::MutexGuard) {
/// use zkurator::LossReason;
/// match guard.lost().await {
///     LossReason::NodeDeleted => eprintln!("an operator removed our node"),
///     LossReason::SessionEnded | LossReason::DisconnectedTooLong => eprintln!("session gone"),
///     other => eprintln!("lost: {other:?}"),
/// }
/// # }
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossReason {
    /// The ZooKeeper session expired, failed authentication or was closed.
    SessionEnded,
    /// The client has been cut off for so long that the server may have
    /// expired the session (a session timeout after the last request the
    /// server answered was sent), even though the client cannot hear it.
    DisconnectedTooLong,
    /// The lock node was deleted: by someone else, or by the server ending
    /// the session while the client was still connected (the server deletes
    /// the session's nodes, tells the connection, then closes it, so the
    /// client hears of the node first). Either way the first news names the loss.
    NodeDeleted,
    /// The handle released the lock (through another guard or `release`).
    Released,
}

/// What a holder can know about its hold.
///
/// ```no_run
/// # fn demo(guard: &zkurator::MutexGuard) {
/// use zkurator::HoldStatus;
/// match guard.status() {
///     HoldStatus::Held => { /* go on */ }
///     HoldStatus::Suspended => { /* pause writes until connected again */ }
///     HoldStatus::Lost(reason) => eprintln!("stop: {reason:?}"),
///     _ => {}
/// }
/// # }
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldStatus {
    /// Held, connected.
    Held,
    /// Connection to ZooKeeper lost: still held if the session survives, but
    /// another client may take the lock once it expires. Careful holders pause.
    Suspended,
    /// Definitely no longer held.
    Lost(LossReason),
}

/// The state published to guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HoldState {
    pub status: HoldStatus,
    /// Someone wrote `__REVOKE__` into the node (only for revocable locks).
    pub revocation_requested: bool,
}

impl HoldState {
    pub(crate) const HELD: HoldState = HoldState { status: HoldStatus::Held, revocation_requested: false };
}

/// What can be known of a hold without a request: the session's state now.
/// `answered_at` is when the request that last showed the lock held was sent.
pub(crate) fn status_now(client: &Client, answered_at: Instant) -> HoldStatus {
    session_status(client.state(), answered_at + client.session_timeout())
}

/// A hold's status by its session's state: held while connected, lost once
/// the session ended or the client is still cut off at `deadline` (a session
/// timeout after the last answered request was sent), suspended before that.
fn session_status(session: SessionState, deadline: Instant) -> HoldStatus {
    match session {
        SessionState::SyncConnected | SessionState::ConnectedReadOnly => HoldStatus::Held,
        s if s.is_terminated() => HoldStatus::Lost(LossReason::SessionEnded),
        _ if Instant::now() >= deadline => HoldStatus::Lost(LossReason::DisconnectedTooLong),
        _ => HoldStatus::Suspended,
    }
}

/// Watches a hold until it is lost; abort it on release. Started when a
/// guard first asks about its hold (or at once for a revocable lock), so a
/// hold nobody asks about costs no task and no request.
///
/// It reads the node with a watch (deletion, revocation requests) and reads
/// it again every third of the session timeout, remembering when the last
/// answered read was sent: the server cannot expire the session before that
/// instant plus the session timeout, so a client cut off from the server
/// reports the loss by then, before another client can be granted the lock
/// (CURATOR-206/604), instead of a session timeout after it noticed.
/// `answered_at` is that instant for the acquisition itself.
pub(crate) async fn monitor(
    client: Client,
    node: String,
    revocable: bool,
    answered_at: Instant,
    state: watch::Sender<HoldState>,
) {
    let mut session = client.state_watcher();
    let session_timeout = client.session_timeout();
    let refresh = session_timeout / 3;
    let mut last_answered = answered_at;
    let reason = loop {
        let sent = Instant::now();
        match client.get_and_watch_data(&node).await {
            Ok((data, _stat, watcher)) => {
                last_answered = sent;
                state.send_modify(|s| {
                    // A loss seen meanwhile (the node watch's deletion) stays.
                    if !matches!(s.status, HoldStatus::Lost(_)) {
                        s.status = HoldStatus::Held;
                    }
                    s.revocation_requested |= revocable && data == REVOKE_MESSAGE;
                });
                tokio::select! {
                    event = watcher.changed() => match event.event_type {
                        EventType::NodeDeleted => break LossReason::NodeDeleted,
                        EventType::Session if event.session_state.is_terminated() => break LossReason::SessionEnded,
                        _ => {}
                    },
                    changed = session.changed() => {
                        let deadline = last_answered + session_timeout;
                        if let Some(reason) = ride_out_disconnect(changed, &mut session, deadline, &state).await {
                            break reason;
                        }
                    }
                    // Time to refresh `last_answered`: loop and read again.
                    _ = tokio::time::sleep(refresh) => {}
                }
            }
            Err(zookeeper_client::Error::NoNode) => break LossReason::NodeDeleted,
            Err(
                error @ (zookeeper_client::Error::SessionExpired
                | zookeeper_client::Error::ClientClosed
                | zookeeper_client::Error::AuthFailed),
            ) => {
                tracing::debug!(%error, node, "lock lost with the session");
                break LossReason::SessionEnded;
            }
            Err(_) => {
                let now = session.peek_state();
                let deadline = last_answered + session_timeout;
                if let Some(reason) = ride_out_disconnect(now, &mut session, deadline, &state).await {
                    break reason;
                }
                if Instant::now() >= deadline {
                    break LossReason::DisconnectedTooLong;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    publish_loss(&node, reason, &state);
}

/// Publishes the loss, unless one was published before: the first loss names it.
fn publish_loss(node: &str, reason: LossReason, state: &watch::Sender<HoldState>) {
    tracing::debug!(node, ?reason, "lock lost");
    state.send_modify(|s| {
        if !matches!(s.status, HoldStatus::Lost(_)) {
            s.status = HoldStatus::Lost(reason);
        }
    });
}

/// Follows the session from `current`: returns `None` once connected again,
/// or the loss if the session ends or is still disconnected at `deadline`.
async fn ride_out_disconnect(
    mut current: SessionState,
    session: &mut zookeeper_client::StateWatcher,
    deadline: Instant,
    state: &watch::Sender<HoldState>,
) -> Option<LossReason> {
    loop {
        match session_status(current, deadline) {
            HoldStatus::Held => return None,
            HoldStatus::Lost(reason) => return Some(reason),
            HoldStatus::Suspended => state.send_modify(|s| {
                if !matches!(s.status, HoldStatus::Lost(_)) {
                    s.status = HoldStatus::Suspended;
                }
            }),
        }
        current = match tokio::time::timeout_at(deadline, session.changed()).await {
            Ok(next) => next,
            Err(_) => return Some(LossReason::DisconnectedTooLong),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_state_decides_without_a_request() {
        let later = Instant::now() + Duration::from_secs(60);
        let passed = Instant::now();
        assert_eq!(session_status(SessionState::SyncConnected, passed), HoldStatus::Held);
        assert_eq!(session_status(SessionState::Disconnected, later), HoldStatus::Suspended);
        assert_eq!(
            session_status(SessionState::Disconnected, passed),
            HoldStatus::Lost(LossReason::DisconnectedTooLong)
        );
        assert_eq!(session_status(SessionState::Expired, later), HoldStatus::Lost(LossReason::SessionEnded));
        assert_eq!(session_status(SessionState::Closed, later), HoldStatus::Lost(LossReason::SessionEnded));
    }
}
