//! [`Hold`]: one lock node of one caller, shared by the guards of that hold
//! (the first guard and the ones re-entered from it); its node goes with the
//! last of them, counted by [`Shares`], not by the `Arc`.

use std::sync::Mutex as StdMutex;

use tokio::sync::watch;
use zookeeper_client::Client;

use crate::cleanup;
use crate::error::{LockError, Result};
use crate::fencing::FencingToken;
use crate::internals::Acquired;
use crate::monitor::{self, HoldState, HoldStatus, LossReason};
use crate::node_watch::{NodeWatch, Seen};
use crate::observe::{self, Kind};
use crate::shares::Shares;

/// One hold of a lock: a lock node this caller created and holds the lock
/// with. Every guard derefs to the `Hold` it rests on, so `guard.status()`,
/// `guard.lost()` and `guard.fencing_token()` are methods of this type.
///
/// From the acquire on, the server watches the node for this hold (an exists
/// watch sent with the acquire, whose answer nobody waits for), so a node
/// deleted by someone else counts as lost as soon as the client hears of it,
/// whether or not anyone asked before. The loss watcher task (session
/// timeouts while cut off, revocation requests) starts the first time one of
/// its guards asks ([`status`](Self::status), [`is_lost`](Self::is_lost),
/// [`lost`](Self::lost) or [`revocation_requested`](Self::revocation_requested));
/// revocable locks are watched from the start.
///
/// ```no_run
/// # async fn demo(mutex: zkurator::Mutex) -> zkurator::Result<()> {
/// let guard = mutex.lock().await?;
/// let hold: &zkurator::Hold = &guard; // every guard derefs to its hold
/// println!("{} under token {}", hold.node_path(), hold.fencing_token());
/// if hold.is_lost() {
///     return Ok(()); // stop: another client may hold the lock now
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Hold {
    client: Client,
    acquired: Acquired,
    revocable: bool,
    state: watch::Sender<HoldState>,
    /// The loss watcher, once started (see [`monitor::monitor`]).
    monitor: StdMutex<Option<tokio::task::AbortHandle>>,
    /// The runtime the hold was acquired on: a guard dropped outside any
    /// runtime still gets its node deleted there.
    runtime: Option<tokio::runtime::Handle>,
    /// The guards of this hold, and whether a release ended it.
    shares: Shares,
    /// The exists watch on the node, set by the acquire.
    node: NodeWatch,
    /// The largest request the server takes (for guarded writes).
    max_request_bytes: usize,
    /// What the hold is of (metrics' `kind`).
    kind: Kind,
    /// The hold's span, from the grant until the hold ends.
    span: StdMutex<Option<tracing::Span>>,
}

impl Hold {
    pub(crate) fn new(
        client: Client,
        acquired: Acquired,
        revocable: bool,
        max_request_bytes: usize,
        kind: Kind,
    ) -> Hold {
        let node = NodeWatch::start(&client, &acquired.path);
        let span = tracing::debug_span!("zkurator.hold", node = %acquired.path, kind = kind.label(), ended = tracing::field::Empty);
        observe::holding(kind, 1.0);
        let hold = Hold {
            client,
            acquired,
            revocable,
            state: watch::channel(HoldState::HELD).0,
            monitor: StdMutex::new(None),
            runtime: tokio::runtime::Handle::try_current().ok(),
            shares: Shares::one(),
            node,
            max_request_bytes,
            kind,
            span: StdMutex::new(Some(span)),
        };
        if revocable {
            hold.watch();
        }
        hold
    }

    /// Full path of the lock node this hold rests on.
    pub fn node_path(&self) -> &str {
        &self.acquired.path
    }

    /// The hold's [`FencingToken`]: the creation zxid of the lock node. Every
    /// later holder of the same lock has a larger one, so a storage service
    /// that remembers the largest token it has seen can refuse writes from a
    /// stale holder (see [`FencingToken`] for such a store). Pass it along
    /// with each write; for data in ZooKeeper, [`Hold::guarded`] refuses the
    /// stale write on the server itself.
    pub fn fencing_token(&self) -> FencingToken {
        FencingToken::from_czxid(self.acquired.czxid)
    }

    /// The hold's status now, from what the client has heard: the node's
    /// deletion (as soon as its event or any later reply of the session
    /// arrived), the session's state, and the loss watcher.
    pub fn status(&self) -> HoldStatus {
        self.watch();
        self.known_status()
    }

    /// True once the hold is definitely lost.
    pub fn is_lost(&self) -> bool {
        matches!(self.status(), HoldStatus::Lost(_))
    }

    /// Resolves when the hold is lost: the session ended, the client stayed
    /// disconnected for a session timeout, or the node was deleted. Stop
    /// protected work when it fires.
    pub async fn lost(&self) -> LossReason {
        self.watch();
        let mut state = self.state.subscribe();
        loop {
            if let HoldStatus::Lost(reason) = state.borrow_and_update().status {
                return reason;
            }
            if state.changed().await.is_err() {
                return LossReason::Released;
            }
        }
    }

    /// Resolves when someone asks this holder to let go (see [`crate::revoke`]);
    /// only for locks built with `revocable(true)`. Never resolves otherwise.
    pub async fn revocation_requested(&self) {
        self.watch();
        let mut state = self.state.subscribe();
        loop {
            if state.borrow_and_update().revocation_requested {
                return;
            }
            if state.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// The client (and so the session) this hold was acquired on: guarded
    /// writes go out on it, and so should reads that must see this hold's
    /// own writes in order.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The largest request the server takes, as the lock was built with.
    pub(crate) fn max_request_bytes(&self) -> usize {
        self.max_request_bytes
    }

    /// The guard count of this hold.
    pub(crate) fn shares(&self) -> &Shares {
        &self.shares
    }

    /// The text after the lock name (the sequence), for a downgrade.
    pub(crate) fn sequence(&self) -> &str {
        &self.acquired.sequence
    }

    /// What is known without a request: lost if released, if the node's
    /// watch or the loss watcher saw it go, or if the session says so.
    /// Used by `is_held`, before re-entering a hold, and by `status`.
    pub(crate) fn known_status(&self) -> HoldStatus {
        self.status_seen(true)
    }

    /// [`known_status`](Self::known_status); with `follow_up`, a used-up node
    /// watch starts the loss watcher (not wanted while the hold is ending).
    fn status_seen(&self, follow_up: bool) -> HoldStatus {
        if let lost @ HoldStatus::Lost(_) = self.state.borrow().status {
            return lost;
        }
        if self.shares.ended() {
            return HoldStatus::Lost(LossReason::Released);
        }
        match self.node.seen() {
            Seen::Deleted => self.state.send_modify(|s| {
                if !matches!(s.status, HoldStatus::Lost(_)) {
                    s.status = HoldStatus::Lost(LossReason::NodeDeleted);
                }
            }),
            // The watch is used up (a write to the node, the session):
            // the loss watcher looks from now on.
            Seen::Spent if follow_up => self.watch(),
            Seen::Spent | Seen::Nothing => {}
        }
        match self.state.borrow().status {
            lost @ HoldStatus::Lost(_) => lost,
            _ => monitor::status_now(&self.client, self.acquired.answered_at),
        }
    }

    /// Fails with [`LockError::Lost`] if the hold is known to be lost.
    pub(crate) fn ensure_live(&self) -> Result<()> {
        match self.known_status() {
            HoldStatus::Lost(reason) => Err(LockError::Lost(reason)),
            _ => Ok(()),
        }
    }

    /// Starts watching the hold for loss, if nobody has yet. First publishes
    /// what the session's state tells without a request.
    fn watch(&self) {
        let mut monitor = self.monitor.lock().unwrap_or_else(|p| p.into_inner());
        if monitor.is_some() || self.shares.ended() {
            return;
        }
        let Some(runtime) = tokio::runtime::Handle::try_current().ok().or_else(|| self.runtime.clone()) else {
            return;
        };
        // The node's deletion, if heard of, came first: it names the loss.
        let now = match self.node.seen() {
            Seen::Deleted => HoldStatus::Lost(LossReason::NodeDeleted),
            _ => monitor::status_now(&self.client, self.acquired.answered_at),
        };
        self.state.send_modify(|s| {
            if s.status == HoldStatus::Held {
                s.status = now;
            }
        });
        observe::loss_watcher_started();
        let task = runtime.spawn(monitor::monitor(
            self.client.clone(),
            self.acquired.path.clone(),
            self.revocable,
            self.acquired.answered_at,
            self.state.clone(),
        ));
        *monitor = Some(task.abort_handle());
    }

    /// Ends the hold locally (watcher stopped, guards told) and returns the
    /// node to delete, unless a release already took it.
    fn end(&self) -> Option<&str> {
        // What the hold was when it ended: held (released) or lost, and why.
        let was = if self.shares.ended() { None } else { Some(self.status_seen(false)) };
        if !self.shares.end() {
            return None;
        }
        observe::holding(self.kind, -1.0);
        if let Some(HoldStatus::Lost(reason)) = was {
            observe::hold_lost(reason);
        }
        if let Some(span) = self.span.lock().unwrap_or_else(|p| p.into_inner()).take() {
            span.record("ended", tracing::field::debug(was.unwrap_or(HoldStatus::Held)));
        }
        if let Some(monitor) = self.monitor.lock().unwrap_or_else(|p| p.into_inner()).take() {
            monitor.abort();
        }
        self.state.send_modify(|s| {
            if !matches!(s.status, HoldStatus::Lost(_)) {
                s.status = HoldStatus::Lost(LossReason::Released);
            }
        });
        Some(&self.acquired.path)
    }

    /// Releases the hold and waits for its node's delete (guaranteed: retried
    /// through connection loss until done or the session ends). A hold lost
    /// with its session or node has nothing left to delete: that is `Ok`.
    pub(crate) async fn release(&self) -> Result<()> {
        let Some(node) = self.end() else { return Ok(()) };
        let deleted = cleanup::delete_released(&self.client, node.to_owned(), self.runtime.as_ref()).await;
        // The delete's reply came after the watch's answer and its event:
        // reading them now lets the client forget the watch by itself (a
        // watch dropped unread costs its session task another message).
        self.node.seen();
        deleted
    }

    /// Ends the hold and deletes its node in the background (on the runtime
    /// it was acquired on when there is none here): the last guard's drop.
    pub(crate) fn end_in_background(&self) {
        if let Some(node) = self.end() {
            cleanup::delete_in_background(&self.client, node.to_owned(), self.runtime.as_ref());
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.end_in_background();
    }
}
