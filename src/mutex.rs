//! [`Mutex`]: Curator's `InterProcessMutex` (and, with leases, its
//! `InterProcessSemaphore`), with [`MutexGuard`] as the proof of a hold.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::hold::Hold;
use crate::options::shared_setters;
use crate::session::SessionSource;
use crate::share::Share;
use crate::shared::{Settings, Shared, SideKind};

/// A distributed lock handle on one lock path: Curator's `InterProcessMutex`.
///
/// Wire compatible with Curator's `InterProcessMutex` and kazurator's `Mutex`
/// (and, with [`MutexBuilder::max_leases`], Curator's `InterProcessSemaphore`
/// and kazurator's `Mutex(max_leases=n)`).
///
/// Every [`lock`](Self::lock) call is a contender of its own with its own
/// node, so tasks sharing a handle (through clones or an `Arc`) exclude each
/// other as Curator's threads do. Curator's per-thread reentrancy is explicit
/// here: a caller that holds a [`MutexGuard`] re-enters with
/// [`MutexGuard::reenter`], which creates no node; the node goes with the
/// last guard of the hold. A caller that calls `lock()` again instead is a new
/// contender and waits behind its own hold.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let mutex = zkurator::Mutex::new(&client, "/locks/orders")?;
/// let guard = mutex.lock().await?;
/// let nested = guard.reenter()?; // Curator: acquire() again on the owning thread
/// drop(nested);
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
///
/// ```no_run
/// # fn demo(client: &zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// let three_at_once = zkurator::Mutex::builder(client, "/locks/jobs")
///     .max_leases(3)
///     .data("worker-7")
///     .revocable(true)
///     .build()?;
/// # let _ = three_at_once; Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MutexBuilder {
    source: SessionSource,
    lock_path: String,
    max_leases: u32,
    settings: Settings,
}

shared_setters!(MutexBuilder);

impl MutexBuilder {
    /// Lets up to `n` holders in at once (kazurator `Mutex(max_leases=n)`,
    /// Curator `InterProcessSemaphore`). Zero counts as one.
    pub fn max_leases(mut self, n: u32) -> Self {
        self.max_leases = n.max(1);
        self
    }

    /// Opts in to revocation requests: [`Hold::revocation_requested`]
    /// resolves when someone calls [`crate::revoke`] on the held node.
    pub fn revocable(mut self, revocable: bool) -> Self {
        self.settings.revocable = revocable;
        self
    }

    /// Validates the path and the data size and makes the handle. No request is sent.
    pub fn build(self) -> Result<Mutex> {
        let shared = Shared::new(self.source, &self.lock_path, self.settings)?;
        Ok(Mutex { shared, kind: SideKind::Mutex { max_leases: self.max_leases } })
    }
}

impl Mutex {
    /// A mutex on `lock_path` with default options, on `source` (a `&Client`
    /// or a [`SessionSource`]).
    ///
    /// Fails with [`crate::LockError::InvalidPath`] for a path ZooKeeper cannot use as
    /// a lock directory.
    pub fn new(source: impl Into<SessionSource>, lock_path: &str) -> Result<Mutex> {
        Mutex::builder(source, lock_path).build()
    }

    /// A builder for a mutex on `lock_path`.
    pub fn builder(source: impl Into<SessionSource>, lock_path: &str) -> MutexBuilder {
        MutexBuilder {
            source: source.into(),
            lock_path: lock_path.to_owned(),
            max_leases: 1,
            settings: Settings::default(),
        }
    }

    /// The lock directory.
    pub fn lock_path(&self) -> &str {
        self.shared.lock_path()
    }

    /// Where this handle gets its sessions: `source.client().await` is the
    /// client new acquires use (a hold's own is [`Hold::client`]).
    pub fn source(&self) -> &SessionSource {
        self.shared.source()
    }

    /// How many holders the mutex lets in at once (1 unless built with
    /// [`MutexBuilder::max_leases`]).
    pub fn max_leases(&self) -> u32 {
        match self.kind {
            SideKind::Mutex { max_leases } => max_leases,
            _ => 1,
        }
    }

    /// Whether a caller of this handle (or a clone) holds the lock now:
    /// Curator's `isAcquiredInThisProcess`. A hold known to be lost does not
    /// count (see [`Hold::status`] for how loss becomes known).
    pub fn is_held(&self) -> bool {
        self.shared.is_held(self.kind)
    }

    /// All participant nodes (full paths) in lock order, foreign children
    /// included, as Curator's `getParticipantNodes`.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        participant_nodes(&self.shared, self.kind).await
    }

    /// Waits until the lock is held and returns a guard.
    ///
    /// Cancellation safe: dropping the future leaves no node behind.
    pub async fn lock(&self) -> Result<MutexGuard> {
        self.acquire(None).await
    }

    /// Waits at most `timeout` for the lock; [`crate::LockError::Timeout`] after it,
    /// with this attempt's node already deleted. A zero timeout tries once, as
    /// [`try_lock`](Self::try_lock), and fails with [`crate::LockError::WouldBlock`]. A
    /// timeout too large for the clock (`Duration::MAX`) waits without end.
    pub async fn lock_timeout(&self, timeout: Duration) -> Result<MutexGuard> {
        self.acquire(Some(timeout)).await
    }

    /// Takes the lock if it is free now, in one round trip (Curator's
    /// `acquire(0, ms)`); [`crate::LockError::WouldBlock`] otherwise, with no node left.
    pub async fn try_lock(&self) -> Result<MutexGuard> {
        self.acquire(Some(Duration::ZERO)).await
    }

    async fn acquire(&self, timeout: Option<Duration>) -> Result<MutexGuard> {
        Ok(MutexGuard { share: self.shared.acquire(self.kind, timeout).await? })
    }
}

/// The lock path's children as full paths, sorted for `kind`.
pub(crate) async fn participant_nodes(shared: &Shared, kind: SideKind) -> Result<Vec<String>> {
    let client = shared.source().client().await?;
    let mut children = crate::retry::list_children(&client, shared.lock_path()).await?;
    crate::driver::sort_children(&mut children, kind.sort());
    Ok(children.into_iter().map(|child| format!("{}/{child}", shared.lock_path())).collect())
}

/// Proof of a hold of a [`Mutex`] (or of one of its leases).
///
/// The hold's node is deleted when its last guard goes: by
/// [`release`](Self::release), which waits for the delete, or by drop, which
/// deletes in the background (on the runtime the lock was acquired on, even
/// when dropped outside any runtime). A guard only ever releases its own
/// hold. Derefs to [`Hold`] for the status, loss signal and fencing token.
///
/// ```no_run
/// # async fn demo(mutex: zkurator::Mutex) -> zkurator::Result<()> {
/// let guard = mutex.lock().await?;
/// let nested = guard.reenter()?; // no node, no request
/// drop(nested);
/// guard.release().await?; // the node goes with the last guard
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard releases the lock"]
pub struct MutexGuard {
    share: Share,
}

impl MutexGuard {
    /// One more guard of this hold (Curator's reentrant `acquire` by the
    /// owning thread): no node, no request. The node goes with the last
    /// guard. [`crate::LockError::Lost`] if the hold is known to be lost.
    pub fn reenter(&self) -> Result<MutexGuard> {
        Ok(MutexGuard { share: self.share.reenter()? })
    }

    /// Lets this guard go; when it is the last of its hold, deletes the node
    /// and waits for it (retried through connection loss until done or the
    /// session ends, and finished in the background if this future is dropped).
    pub async fn release(self) -> Result<()> {
        self.share.release().await
    }
}

impl Deref for MutexGuard {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.share
    }
}
