//! [`Mutex`]: one lock side with reentrancy, release, guards and loss signalling.
//! A read/write lock is two of these sharing one lock path.

use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};
use std::time::Duration;

use tokio::sync::watch;
use zookeeper_client::{Acl, Client};

use crate::driver::SortNames;
use crate::error::{LockError, Result};
use crate::internals::{self, Acquired, Rule, Target};
use crate::monitor::{self, HoldState, HoldStatus, LossReason};
use crate::names::{MUTEX_LOCK_NAME, READ_LOCK_NAME, WRITE_LOCK_NAME};
use crate::negative::NegativeControl;
use crate::path::validate_lock_path;

/// Which side of a lock path a [`Mutex`] handle contends for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SideKind {
    /// A mutex (`lock-` nodes) admitting `max_leases` holders.
    Mutex { max_leases: u32 },
    /// The read side of a read/write lock.
    Read,
    /// The write side of a read/write lock.
    Write,
}

impl SideKind {
    fn index(self) -> usize {
        match self {
            SideKind::Mutex { .. } | SideKind::Read => 0,
            SideKind::Write => 1,
        }
    }

    fn lock_name(self) -> &'static str {
        match self {
            SideKind::Mutex { .. } => MUTEX_LOCK_NAME,
            SideKind::Read => READ_LOCK_NAME,
            SideKind::Write => WRITE_LOCK_NAME,
        }
    }

    fn sort(self) -> SortNames {
        match self {
            SideKind::Mutex { .. } => SortNames::Mutex,
            SideKind::Read | SideKind::Write => SortNames::ReadWrite,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SideKind::Mutex { .. } => "mutex",
            SideKind::Read => "read lock",
            SideKind::Write => "write lock",
        }
    }
}

/// Settings shared by [`Mutex`] and [`crate::ReadWriteLock`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub data: Option<Vec<u8>>,
    pub acls: Vec<Acl>,
    pub revocable: bool,
    pub broken: Option<NegativeControl>,
}

/// State shared by the handles of one lock (both sides of a read/write lock).
#[derive(Debug)]
pub(crate) struct Shared {
    client: Client,
    lock_path: String,
    data: Vec<u8>,
    acls: Vec<Acl>,
    revocable: bool,
    broken: Option<NegativeControl>,
    sides: [Side; 2],
}

/// One side's local state.
#[derive(Debug, Default)]
struct Side {
    /// Serialises acquisitions of this handle so two tasks do not both create a node.
    acquiring: tokio::sync::Mutex<()>,
    hold: StdMutex<Option<Hold>>,
}

/// A held node and its reentrancy count.
#[derive(Debug)]
struct Hold {
    acquired: Acquired,
    count: u32,
    state: watch::Sender<HoldState>,
    /// The loss watcher, once started (see [`monitor::monitor`]).
    monitor: Option<tokio::task::AbortHandle>,
}

impl Shared {
    pub(crate) fn new(client: &Client, lock_path: &str, settings: Settings) -> Result<Arc<Shared>> {
        validate_lock_path(lock_path)
            .map_err(|problem| LockError::InvalidPath { path: lock_path.to_owned(), problem })?;
        Ok(Arc::new(Shared {
            client: client.clone(),
            lock_path: lock_path.to_owned(),
            data: settings.data.unwrap_or_else(default_lock_data),
            acls: settings.acls,
            revocable: settings.revocable,
            broken: settings.broken,
            sides: Default::default(),
        }))
    }
}

/// Curator's default lock-node data: this host's address as text (looked up once).
fn default_lock_data() -> Vec<u8> {
    static ADDRESS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ADDRESS.get_or_init(host_address).clone()
}

fn host_address() -> Vec<u8> {
    use std::net::ToSocketAddrs;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let address = (host.trim(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(|a| a.is_ipv4()))
        .map(|a| a.ip().to_string());
    address.unwrap_or_else(|| "127.0.0.1".to_owned()).into_bytes()
}

/// A distributed lock handle on one lock path: Curator's `InterProcessMutex`.
///
/// Wire compatible with Curator's `InterProcessMutex` and kazurator's `Mutex`
/// (and, with [`MutexBuilder::max_leases`], Curator's `InterProcessSemaphore`
/// and kazurator's `Mutex(max_leases=n)`). The two sides of a
/// [`crate::ReadWriteLock`] are `Mutex` handles too.
///
/// Reentrant per handle: acquiring a lock this handle (or a clone of it)
/// already holds creates no node and must be matched by one more release.
/// Clones share the hold; separate `Mutex::new` handles contend like
/// separate processes.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
/// let guard = mutex.lock().await?;
/// // ... work protected from Curator, kazurator and zkurator peers ...
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Mutex {
    shared: Arc<Shared>,
    kind: SideKind,
}

/// Options for a [`Mutex`]; start with [`Mutex::builder`].
#[derive(Clone, Debug)]
pub struct MutexBuilder {
    client: Client,
    lock_path: String,
    max_leases: u32,
    settings: Settings,
}

impl MutexBuilder {
    /// Lets up to `n` holders in at once (kazurator `Mutex(max_leases=n)`,
    /// Curator `InterProcessSemaphore`). Zero counts as one.
    pub fn max_leases(mut self, n: u32) -> Self {
        self.max_leases = n.max(1);
        self
    }

    /// Bytes stored in the lock node (default: this host's address, as Curator).
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.settings.data = Some(data.into());
        self
    }

    /// ACLs for the lock nodes and created parents (default: open to anyone).
    pub fn acls(mut self, acls: Vec<Acl>) -> Self {
        self.settings.acls = acls;
        self
    }

    /// Opts in to revocation requests: [`MutexGuard::revocation_requested`]
    /// resolves when someone calls [`crate::revoke`] on the held node.
    pub fn revocable(mut self, revocable: bool) -> Self {
        self.settings.revocable = revocable;
        self
    }

    /// Breaks this handle's lock rule on purpose (negative controls only).
    #[cfg(feature = "negative-controls")]
    pub fn negative_control(mut self, control: NegativeControl) -> Self {
        self.settings.broken = Some(control);
        self
    }

    /// Validates the path and makes the handle. No request is sent.
    pub fn build(self) -> Result<Mutex> {
        let shared = Shared::new(&self.client, &self.lock_path, self.settings)?;
        Ok(Mutex { shared, kind: SideKind::Mutex { max_leases: self.max_leases } })
    }
}

impl Mutex {
    /// A mutex on `lock_path` with default options.
    ///
    /// Fails with [`LockError::InvalidPath`] for a path ZooKeeper cannot use as
    /// a lock directory.
    pub fn new(client: &Client, lock_path: &str) -> Result<Mutex> {
        Mutex::builder(client, lock_path).build()
    }

    /// A builder for a mutex on `lock_path`.
    pub fn builder(client: &Client, lock_path: &str) -> MutexBuilder {
        MutexBuilder {
            client: client.clone(),
            lock_path: lock_path.to_owned(),
            max_leases: 1,
            settings: Settings::default(),
        }
    }

    pub(crate) fn side(shared: Arc<Shared>, kind: SideKind) -> Mutex {
        Mutex { shared, kind }
    }

    /// The lock directory.
    pub fn lock_path(&self) -> &str {
        &self.shared.lock_path
    }

    /// Whether this handle holds the lock now (as far as it knows: see
    /// [`MutexGuard::status`] for loss).
    pub fn is_held(&self) -> bool {
        self.hold().is_some()
    }

    /// How many times this handle holds the lock (reentrancy depth).
    pub fn hold_count(&self) -> u32 {
        self.hold().as_ref().map_or(0, |h| h.count)
    }

    /// Full path of the node this handle holds the lock with, if held.
    pub fn held_node(&self) -> Option<String> {
        self.hold().as_ref().map(|h| h.acquired.path.clone())
    }

    /// All participant nodes (full paths) in lock order, foreign children
    /// included, as Curator's `getParticipantNodes`.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let mut children = internals::list_children(&self.shared.client, &self.shared.lock_path).await?;
        crate::driver::sort_children(&mut children, self.kind.sort());
        Ok(children.into_iter().map(|child| format!("{}/{child}", self.shared.lock_path)).collect())
    }

    /// Waits until the lock is held and returns a guard.
    ///
    /// Cancellation safe: dropping the future leaves no node behind.
    pub async fn lock(&self) -> Result<MutexGuard> {
        self.acquire_with(None).await
    }

    /// Waits at most `timeout` for the lock; [`LockError::Timeout`] after it,
    /// with this attempt's node already deleted.
    pub async fn lock_timeout(&self, timeout: Duration) -> Result<MutexGuard> {
        self.acquire_with(Some(timeout)).await
    }

    /// Releases one hold of this handle (Curator's `release`): the node is
    /// deleted when the last hold goes. [`LockError::NotHeld`] if not held.
    ///
    /// The delete is retried through connection loss until it succeeds or the
    /// session ends, and keeps going in the background if this future is dropped.
    pub async fn release(&self) -> Result<()> {
        match self.release_one()? {
            None => Ok(()),
            Some(node) => internals::delete_released(&self.shared.client, node).await,
        }
    }

    /// Drops one hold from the local state; returns the node to delete when it
    /// was the last.
    fn release_one(&self) -> Result<Option<String>> {
        let last = {
            let mut hold = self.hold();
            let Some(current) = hold.as_mut() else {
                return Err(LockError::NotHeld(self.kind.describe()));
            };
            current.count -= 1;
            if current.count > 0 {
                return Ok(None);
            }
            hold.take().expect("checked above")
        };
        if let Some(monitor) = &last.monitor {
            monitor.abort();
        }
        last.state.send_modify(|s| {
            if !matches!(s.status, HoldStatus::Lost(_)) {
                s.status = HoldStatus::Lost(LossReason::Released);
            }
        });
        Ok(Some(last.acquired.path))
    }

    fn hold(&self) -> StdGuard<'_, Option<Hold>> {
        self.side_state(self.kind).hold.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn side_state(&self, kind: SideKind) -> &Side {
        &self.shared.sides[kind.index()]
    }

    /// The guard of a reentrant acquire, if this handle already holds the lock.
    fn reenter(&self) -> Option<MutexGuard> {
        let mut hold = self.hold();
        let current = hold.as_mut()?;
        current.count += 1;
        Some(self.guard(current))
    }

    fn guard(&self, hold: &Hold) -> MutexGuard {
        MutexGuard {
            mutex: self.clone(),
            node: hold.acquired.path.clone(),
            fencing_token: hold.acquired.czxid,
            state: hold.state.subscribe(),
            armed: true,
        }
    }

    /// The sequence of this handle's write node, for a read-side downgrade.
    fn held_write_sequence(&self) -> Option<String> {
        let write = self.side_state(SideKind::Write).hold.lock().unwrap_or_else(|p| p.into_inner());
        write.as_ref().map(|h| h.acquired.sequence.clone())
    }

    fn holds_read(&self) -> bool {
        self.side_state(SideKind::Read).hold.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Starts watching `hold` for loss, if nobody has yet. First publishes
    /// what the session's state tells without a request.
    fn start_monitor(&self, hold: &mut Hold) {
        if hold.monitor.is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let client = &self.shared.client;
        let now = monitor::status_now(client, hold.acquired.answered_at);
        hold.state.send_modify(|s| {
            if s.status == HoldStatus::Held {
                s.status = now;
            }
        });
        let task = runtime.spawn(monitor::monitor(
            client.clone(),
            hold.acquired.path.clone(),
            self.shared.revocable,
            hold.acquired.answered_at,
            hold.state.clone(),
        ));
        hold.monitor = Some(task.abort_handle());
    }

    async fn acquire_with(&self, timeout: Option<Duration>) -> Result<MutexGuard> {
        if let Some(guard) = self.reenter() {
            return Ok(guard);
        }
        let _one_at_a_time = self.side_state(self.kind).acquiring.lock().await;
        if let Some(guard) = self.reenter() {
            return Ok(guard);
        }
        let rule = match self.kind {
            SideKind::Mutex { max_leases } => Rule::Exclusive { max_leases },
            SideKind::Write if self.holds_read() => return Err(LockError::Upgrade),
            SideKind::Write => Rule::Exclusive { max_leases: 1 },
            SideKind::Read => Rule::Read { downgrade_from: self.held_write_sequence() },
        };
        let shared = &self.shared;
        let target = Target {
            client: &shared.client,
            lock_path: &shared.lock_path,
            lock_name: self.kind.lock_name(),
            sort: self.kind.sort(),
            data: &shared.data,
            acls: &shared.acls,
            rule,
            broken: shared.broken,
        };
        let acquired = target.acquire(timeout).await?;
        let (state, _) = watch::channel(HoldState::HELD);
        let mut hold = Hold { acquired, count: 1, state, monitor: None };
        if shared.revocable {
            self.start_monitor(&mut hold);
        }
        let guard = self.guard(&hold);
        *self.hold() = Some(hold);
        Ok(guard)
    }
}

/// Proof of one hold of a [`Mutex`]; releases that hold when dropped.
///
/// Dropping releases in the background (the delete needs a request); call
/// [`MutexGuard::release`] to wait for it and see errors.
#[derive(Debug)]
#[must_use = "dropping the guard releases the lock"]
pub struct MutexGuard {
    mutex: Mutex,
    node: String,
    fencing_token: i64,
    state: watch::Receiver<HoldState>,
    armed: bool,
}

impl MutexGuard {
    /// Full path of the lock node this hold rests on.
    pub fn node_path(&self) -> &str {
        &self.node
    }

    /// A fencing token: the creation zxid of the lock node. Every later holder
    /// of the same lock has a larger one, so a storage service that remembers
    /// the largest token it has seen can refuse writes from a stale holder.
    ///
    /// ```
    /// /// A store that refuses writes from holders older than the newest it saw.
    /// struct FencedStore { newest_token: i64, value: String }
    ///
    /// impl FencedStore {
    ///     fn write(&mut self, token: i64, value: &str) -> Result<(), String> {
    ///         if token < self.newest_token {
    ///             return Err(format!("stale lock holder (token {token} < {})", self.newest_token));
    ///         }
    ///         self.newest_token = token;
    ///         self.value = value.to_owned();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let mut store = FencedStore { newest_token: 0, value: String::new() };
    /// store.write(0x1_0000_0007, "from the new holder").unwrap();
    /// // A paused holder whose session expired wakes up with its old token:
    /// assert!(store.write(0x1_0000_0003, "from the old holder").is_err());
    /// ```
    /// Pass `guard.fencing_token()` along with each write.
    pub fn fencing_token(&self) -> i64 {
        self.fencing_token
    }

    /// The hold's status now.
    ///
    /// A hold is watched from the first time a guard asks about it (this,
    /// [`is_lost`](Self::is_lost), [`lost`](Self::lost) or
    /// [`revocation_requested`](Self::revocation_requested)); until then it
    /// costs no task and no request. The first answer comes from the session's
    /// state; a deleted node shows a round trip later.
    pub fn status(&self) -> HoldStatus {
        self.watch_hold();
        self.state.borrow().status
    }

    /// Starts watching this hold, if it is still this handle's and not watched yet.
    fn watch_hold(&self) {
        let mut hold = self.mutex.hold();
        if let Some(current) = hold.as_mut().filter(|h| h.acquired.path == self.node) {
            self.mutex.start_monitor(current);
        }
    }

    /// True once the hold is definitely lost.
    pub fn is_lost(&self) -> bool {
        matches!(self.status(), HoldStatus::Lost(_))
    }

    /// Resolves when the hold is lost: the session ended, the client stayed
    /// disconnected for a session timeout, the node was deleted, or the handle
    /// released it. Stop protected work when it fires.
    pub async fn lost(&self) -> LossReason {
        self.watch_hold();
        let mut state = self.state.clone();
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
    /// only for handles built with `revocable(true)`. Never resolves otherwise.
    pub async fn revocation_requested(&self) {
        self.watch_hold();
        let mut state = self.state.clone();
        loop {
            if state.borrow_and_update().revocation_requested {
                return;
            }
            if state.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Releases this hold and waits for the node's delete (if it was the last hold).
    pub async fn release(mut self) -> Result<()> {
        self.armed = false;
        self.mutex.release().await
    }
}

impl Drop for MutexGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match self.mutex.release_one() {
            Ok(Some(node)) => internals::delete_in_background(&self.mutex.shared.client, node),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, node = self.node, "guard dropped after its hold was released"),
        }
    }
}
