//! The I/O shell around the pure driver: one acquire attempt (protected
//! create, list, decide, watch, deadline, cleanup) and the guaranteed delete.

use std::time::Duration;

use tokio::time::Instant;
use tracing::debug;
use zookeeper_client::{Acl, Acls, Client, CreateMode, Error as ZkError, EventType};

use crate::cleanup::Cleanup;
use crate::driver::{self, Decision, SortNames};
use crate::error::{LockError, Result};
use crate::names::{concat, new_protected_prefix, MUTEX_LOCK_NAME};
#[cfg(zkurator_harness)]
use crate::negative::NegativeControl;
use crate::retry::{list_children, RETRY_PAUSE};
use crate::rule::Rule;

/// Everything an attempt needs to know about the lock it contends for.
pub(crate) struct Target<'a> {
    /// What is taken (metrics' `kind`).
    pub kind: crate::observe::Kind,
    pub client: &'a Client,
    pub lock_path: &'a str,
    pub lock_name: &'static str,
    pub sort: SortNames,
    pub data: &'a [u8],
    pub acls: &'a [Acl],
    pub rule: Rule,
    /// A deliberately broken rule (negative controls; harness builds only).
    #[cfg(zkurator_harness)]
    pub broken: Option<NegativeControl>,
}

/// A lock node this handle now holds.
#[derive(Clone, Debug)]
pub(crate) struct Acquired {
    /// Full path of the node.
    pub path: String,
    /// The text after the lock name: ZooKeeper's sequence, or for a downgrade
    /// read node the write node's sequence.
    pub sequence: String,
    /// The node's creation zxid.
    pub czxid: i64,
    /// When the request whose answer showed the lock held was sent: the
    /// session was alive then, so the server cannot expire it before this
    /// instant plus the session timeout.
    pub answered_at: Instant,
}

impl Target<'_> {
    fn acls(&self) -> Acls<'_> {
        if self.acls.is_empty() {
            Acls::anyone_all()
        } else {
            Acls::new(self.acls)
        }
    }

    /// Contends until the lock is held, the deadline passes or an error occurs.
    /// Whatever way it ends (including the returned future being dropped), no
    /// node of this attempt is left behind unless it holds the lock.
    ///
    /// A timeout bounds the waiting, not the first question (given up to a
    /// session timeout): a zero timeout tries once, as Curator's `acquire(0, ms)`.
    pub async fn acquire(&self, timeout: Option<Duration>) -> Result<Acquired> {
        let deadline = deadline_after(timeout);
        loop {
            let mut cleanup = Cleanup::new(self.client, self.lock_path, new_protected_prefix());
            let outcome = self.attempt(&mut cleanup, deadline).await;
            match outcome {
                Ok(acquired) => {
                    cleanup.disarm();
                    return Ok(acquired);
                }
                Err(Failure::Vanished) => {
                    debug!(lock = self.lock_path, "own lock node vanished while waiting; trying again");
                    cleanup.disarm();
                }
                Err(failure) => {
                    cleanup.delete_now().await;
                    return Err(match failure {
                        Failure::Error(error) => error,
                        _ => LockError::gave_up(timeout),
                    });
                }
            }
        }
    }

    /// One attempt: create our node, then wait until it holds the lock.
    async fn attempt(&self, cleanup: &mut Cleanup<'_>, deadline: Option<Instant>) -> Result<Acquired, Failure> {
        let first_answer_by = deadline.map(|d| d.max(Instant::now() + self.client.session_timeout().min(HOUR)));
        let (mut acquired, children) =
            within(first_answer_by, self.create_and_list(&cleanup.prefix)).await.ok_or(Failure::TimedOut)??;
        cleanup.node = Some(acquired.path.clone());
        let name = &acquired.path[self.lock_path.len() + 1..];
        let held =
            within(deadline, self.wait_until_held(name, children, deadline)).await.ok_or(Failure::TimedOut)??;
        if let Some(listed_at) = held {
            acquired.answered_at = listed_at;
        }
        Ok(acquired)
    }

    /// Creates our node and lists the children in one round trip: ZooKeeper
    /// applies one session's requests in order, so the listing already has
    /// our node in it.
    async fn create_and_list(&self, prefix: &str) -> Result<(Acquired, Vec<String>)> {
        let (mode, path) = match &self.rule {
            Rule::Read { downgrade_from: Some(sequence) } => {
                (CreateMode::Ephemeral, concat(&[self.lock_path, "/", prefix, self.lock_name, sequence]))
            }
            _ => (CreateMode::EphemeralSequential, concat(&[self.lock_path, "/", prefix, self.lock_name])),
        };
        let options = mode.with_acls(self.acls());
        loop {
            let sent = Instant::now();
            // Both requests are sent here, in this order. The list's reply
            // comes after the create's, so waiting for the list first wakes
            // this task once for the pair, not once per reply.
            let create = self.client.create(&path, self.data, &options);
            let listed = self.client.list_children(self.lock_path).await;
            let created = create.await;
            let created = match created {
                Ok((stat, sequence)) => {
                    let sequence = match &self.rule {
                        Rule::Read { downgrade_from: Some(sequence) } => sequence.clone(),
                        _ => sequence.to_string(),
                    };
                    let path = match mode {
                        CreateMode::EphemeralSequential => concat(&[&path, &sequence]),
                        _ => path.clone(),
                    };
                    Acquired { path, sequence, czxid: stat.czxid, answered_at: sent }
                }
                Err(ZkError::NoNode) => {
                    self.create_parents().await?;
                    continue;
                }
                Err(ZkError::ConnectionLoss) => match self.find_by_prefix(prefix).await? {
                    Some(found) => found,
                    None => continue,
                },
                Err(error) => return Err(LockError::from_zk("create", &path, error)),
            };
            let children = match listed {
                Ok(children) => children,
                Err(_) => {
                    let sent = Instant::now();
                    let children = self.list_children().await?;
                    return Ok((Acquired { answered_at: sent, ..created }, children));
                }
            };
            return Ok((created, children));
        }
    }

    /// After a create whose reply was lost: our node, if the create happened.
    async fn find_by_prefix(&self, prefix: &str) -> Result<Option<Acquired>> {
        let sent = Instant::now();
        let children = self.list_children().await?;
        let Some(name) = children.into_iter().find(|child| child.starts_with(prefix)) else {
            return Ok(None);
        };
        let path = format!("{}/{name}", self.lock_path);
        let stat = loop {
            match self.client.check_stat(&path).await {
                Ok(stat) => break stat,
                Err(ZkError::ConnectionLoss) => tokio::time::sleep(RETRY_PAUSE).await,
                Err(error) => return Err(LockError::from_zk("stat", &path, error)),
            }
        };
        let Some(stat) = stat else { return Ok(None) };
        let sequence = crate::names::sequence_of(&name, self.lock_name).unwrap_or_default().to_owned();
        debug!(%path, "found own node after connection loss");
        Ok(Some(Acquired { path, sequence, czxid: stat.czxid, answered_at: sent }))
    }

    /// Creates the missing ancestors of the lock path as container nodes, or as
    /// persistent nodes on servers without containers.
    async fn create_parents(&self) -> Result<()> {
        let container = CreateMode::Container.with_acls(self.acls());
        loop {
            match self.client.mkdir(self.lock_path, &container).await {
                Ok(()) => return Ok(()),
                Err(ZkError::Unimplemented | ZkError::UnexpectedErrorCode(_)) => break,
                Err(ZkError::ConnectionLoss) => tokio::time::sleep(RETRY_PAUSE).await,
                Err(error) => return Err(LockError::from_zk("create parent", self.lock_path, error)),
            }
        }
        let persistent = CreateMode::Persistent.with_acls(self.acls());
        self.client
            .mkdir(self.lock_path, &persistent)
            .await
            .map_err(|error| LockError::from_zk("create parent", self.lock_path, error))
    }

    async fn list_children(&self) -> Result<Vec<String>> {
        list_children(self.client, self.lock_path).await
    }

    /// Waits, watching the node the driver names, until ours holds the lock.
    /// Returns when the request that last showed the session alive was sent,
    /// if not the first listing.
    async fn wait_until_held(
        &self,
        ours: &str,
        mut children: Vec<String>,
        deadline: Option<Instant>,
    ) -> Result<Option<Instant>, Failure> {
        let mut answered_at = None;
        let mut waiting = None;
        loop {
            driver::sort_children(&mut children, self.sort);
            if answered_at.is_none() {
                if let Some(position) = children.iter().position(|c| c == ours) {
                    tracing::Span::current().record("position", position);
                }
            }
            let decision = self.decide(&children, ours);
            if waiting.is_none() && matches!(decision, Decision::Watch(_)) {
                waiting = Some(crate::observe::Waiting::start(self.kind));
            }
            match decision {
                Decision::Holds => return Ok(answered_at),
                Decision::Missing => return Err(Failure::Vanished),
                // Past the deadline (a zero timeout): no watch is set.
                Decision::Watch(_) if deadline.is_some_and(|d| Instant::now() >= d) => return Err(Failure::TimedOut),
                // With several leases, any earlier node's exit may let us in,
                // not only the one `max_leases` places ahead that Curator
                // watches (its waiters can sleep while a lease is free).
                Decision::Watch(_)
                    if matches!(self.rule, Rule::Exclusive { max_leases } if max_leases > 1)
                        || matches!(self.rule, Rule::Count { .. }) =>
                {
                    self.wait_for_children_change(&children).await?
                }
                Decision::Watch(other) => {
                    // What the rule says once `other` is gone, where no node
                    // can queue ahead of ours meanwhile: held, or the node
                    // to watch then (the one ahead of `other`).
                    let then =
                        self.no_node_can_queue_ahead().then(|| self.decide(&driver::without(&children, &other), ours));
                    // A waiter keeps no listing while it sleeps: with many
                    // waiters the listings, not the waiters, would fill memory.
                    drop(std::mem::take(&mut children));
                    match then {
                        Some(Decision::Holds) => {
                            let (gone, asked_at) = self.wait_for_change(&other).await?;
                            if gone {
                                return Ok(Some(asked_at));
                            }
                        }
                        // Also watch the node ahead of `other`: it usually
                        // goes when `other` becomes the holder, and the
                        // listing that follows, made while `other` holds,
                        // lets `other`'s own exit hand the lock over alone
                        // (one round trip per handoff, not two).
                        Some(Decision::Watch(ahead)) => {
                            tokio::select! {
                                changed = self.wait_for_change(&other) => { changed?; }
                                changed = self.wait_for_change(&ahead) => { changed?; }
                            }
                        }
                        _ => {
                            self.wait_for_change(&other).await?;
                        }
                    }
                }
            }
            answered_at = Some(Instant::now());
            children = self.list_children().await?;
        }
    }

    /// This attempt's rule applied to the sorted children.
    fn decide<S: AsRef<str>>(&self, sorted: &[S], ours: &str) -> Decision {
        #[cfg(zkurator_harness)]
        if let Some(decision) = self.broken.and_then(|control| control.decide(&self.rule, sorted, ours)) {
            return decision;
        }
        self.rule.decide(sorted, ours)
    }

    /// Whether a negative control breaks this attempt's rule.
    fn is_broken(&self) -> bool {
        #[cfg(zkurator_harness)]
        return self.broken.is_some();
        #[cfg(not(zkurator_harness))]
        false
    }

    /// Whether no node that blocks ours can appear ahead of it after our
    /// listing, so that the watched node's deletion alone decides, without
    /// listing again (one round trip less per handoff). ZooKeeper numbers
    /// every later sequential node after ours, so this holds for a mutex and
    /// for the read side (a downgrade's read node, the one node created with
    /// an earlier sequence, does not block readers). Not for the write side:
    /// a downgrading holder adds a read node ahead of a queued writer
    /// (CURATOR-621). Nodes of third parties named to sort ahead are not
    /// waited for on this path, and a waiting node deleted by a third party
    /// is reported as lost once the holder asks ([`crate::MutexGuard::status`]).
    fn no_node_can_queue_ahead(&self) -> bool {
        !self.is_broken()
            && match self.rule {
                Rule::Exclusive { max_leases } => max_leases == 1 && self.lock_name == MUTEX_LOCK_NAME,
                Rule::Read { .. } => true,
                Rule::Count { .. } => false,
            }
    }

    /// Returns once the lock directory's children differ from `seen`.
    async fn wait_for_children_change(&self, seen: &[String]) -> Result<()> {
        match self.client.list_and_watch_children(self.lock_path).await {
            Ok((mut now, watcher)) => {
                let mut seen = seen.to_vec();
                seen.sort_unstable();
                now.sort_unstable();
                if now != seen {
                    return Ok(());
                }
                let event = watcher.changed().await;
                if event.event_type == EventType::Session && event.session_state.is_terminated() {
                    return Err(LockError::SessionLost(ZkError::SessionExpired));
                }
                Ok(())
            }
            Err(ZkError::ConnectionLoss) => {
                tokio::time::sleep(RETRY_PAUSE).await;
                Ok(())
            }
            Err(error) => Err(LockError::from_zk("watch children", self.lock_path, error)),
        }
    }

    /// Returns once `child` changed or is gone: whether it is gone, and when
    /// the request setting the watch was sent. A data watch, not an exists
    /// watch, so a node that is already gone leaves no watch behind.
    async fn wait_for_change(&self, child: &str) -> Result<(bool, Instant)> {
        let path = format!("{}/{child}", self.lock_path);
        let asked_at = Instant::now();
        match self.client.get_and_watch_data(&path).await {
            Ok((_data, _stat, watcher)) => {
                let event = watcher.changed().await;
                if event.event_type == EventType::Session && event.session_state.is_terminated() {
                    return Err(LockError::SessionLost(ZkError::SessionExpired));
                }
                Ok((event.event_type == EventType::NodeDeleted, asked_at))
            }
            Err(ZkError::NoNode) => Ok((true, asked_at)),
            Err(ZkError::ConnectionLoss) => {
                tokio::time::sleep(RETRY_PAUSE).await;
                Ok((false, asked_at))
            }
            Err(error) => Err(LockError::from_zk("watch", &path, error)),
        }
    }
}

/// An hour: no session timeout is longer (ZooKeeper caps them far lower).
const HOUR: Duration = Duration::from_secs(3600);

/// The instant `timeout` from now; `None` (wait without end) for no timeout
/// or one too large to add to the clock (`Duration::MAX` from a config file).
pub(crate) fn deadline_after(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

/// Runs `future` until `deadline` (if any); `None` if the deadline came first.
async fn within<F: std::future::Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}

/// Why an attempt ended without the lock.
enum Failure {
    /// Our node disappeared (deleted by someone else): start a new attempt.
    Vanished,
    /// The deadline passed before the lock was held.
    TimedOut,
    /// Give up with this error.
    Error(LockError),
}

impl From<LockError> for Failure {
    fn from(error: LockError) -> Self {
        Failure::Error(error)
    }
}
