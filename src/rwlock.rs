//! [`ReadWriteLock`]: Curator's shared reentrant read/write lock.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::mutex::participant_nodes;
use crate::options::shared_setters;
use crate::read_guard::ReadGuard;
use crate::session::SessionSource;
use crate::shared::{Settings, Shared, SideKind};
use crate::write_guard::WriteGuard;

/// A read/write lock on one lock path, wire compatible with Curator's
/// `InterProcessReadWriteLock` and kazurator's `ReadWriteLock`.
///
/// Readers share it; a writer excludes everyone; writers are served in node
/// order, and a reader queued behind a writer waits for it. Every `read()` and
/// `write()` call is a contender of its own, so tasks sharing the handle
/// exclude each other as Curator's threads do.
///
/// Curator's per-thread reentrancy maps to the guards: re-enter a side with
/// [`ReadGuard::reenter`] / [`WriteGuard::reenter`]; take the read lock
/// while holding the write lock with [`WriteGuard::read`], or trade one for
/// the other with [`WriteGuard::downgrade`]. As in Curator 5.5
/// (CURATOR-621), that read node carries the write node's sequence, so a
/// writer queued meanwhile cannot slip in. Upgrade does not exist in the
/// protocol: [`ReadGuard::upgrade`] refuses at once. What the library cannot
/// know: a caller holding a read guard that calls `write()` on the handle is
/// a new contender, and waits behind its own read node as long as it holds it.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let lock = zkurator::ReadWriteLock::new(&client, "/locks/catalog")?;
/// let write = lock.write().await?;
/// let read = write.downgrade().await?; // read node first, then the write node goes
/// read.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReadWriteLock {
    shared: Arc<Shared>,
}

/// Options for a [`ReadWriteLock`]; start with [`ReadWriteLock::builder`].
///
/// ```no_run
/// # fn demo(client: &zkurator::zookeeper_client::Client) -> zkurator::Result<()> {
/// let lock = zkurator::ReadWriteLock::builder(client, "/locks/catalog").data("svc-a").build()?;
/// # let _ = lock; Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ReadWriteLockBuilder {
    source: SessionSource,
    lock_path: String,
    settings: Settings,
}

shared_setters!(ReadWriteLockBuilder);

impl ReadWriteLockBuilder {
    /// Opts in to revocation requests on both sides.
    pub fn revocable(mut self, revocable: bool) -> Self {
        self.settings.revocable = revocable;
        self
    }

    /// Validates the path and the data size and makes the lock. No request is sent.
    pub fn build(self) -> Result<ReadWriteLock> {
        Ok(ReadWriteLock { shared: Shared::new(self.source, &self.lock_path, self.settings)? })
    }
}

impl ReadWriteLock {
    /// A read/write lock on `lock_path` with default options, on `source` (a
    /// `&Client` or a [`SessionSource`]).
    pub fn new(source: impl Into<SessionSource>, lock_path: &str) -> Result<ReadWriteLock> {
        ReadWriteLock::builder(source, lock_path).build()
    }

    /// A builder for a read/write lock on `lock_path`.
    pub fn builder(source: impl Into<SessionSource>, lock_path: &str) -> ReadWriteLockBuilder {
        ReadWriteLockBuilder { source: source.into(), lock_path: lock_path.to_owned(), settings: Settings::default() }
    }

    /// The lock directory.
    pub fn lock_path(&self) -> &str {
        self.shared.lock_path()
    }

    /// Where this lock gets its sessions (see [`crate::Mutex::source`]).
    pub fn source(&self) -> &SessionSource {
        self.shared.source()
    }

    /// Waits for the read lock (cancellation safe, as every acquire).
    pub async fn read(&self) -> Result<ReadGuard> {
        self.read_with(None).await
    }

    /// Waits at most `timeout` for the read lock; a zero timeout tries once
    /// ([`crate::LockError::WouldBlock`]), `Duration::MAX` waits without end.
    pub async fn read_timeout(&self, timeout: Duration) -> Result<ReadGuard> {
        self.read_with(Some(timeout)).await
    }

    /// The read lock if no writer holds or queues ahead now, in one round
    /// trip; [`crate::LockError::WouldBlock`] otherwise, with no node left.
    pub async fn try_read(&self) -> Result<ReadGuard> {
        self.read_with(Some(Duration::ZERO)).await
    }

    /// Waits for the write lock.
    pub async fn write(&self) -> Result<WriteGuard> {
        self.write_with(None).await
    }

    /// Waits at most `timeout` for the write lock; a zero timeout tries once
    /// ([`crate::LockError::WouldBlock`]), `Duration::MAX` waits without end.
    pub async fn write_timeout(&self, timeout: Duration) -> Result<WriteGuard> {
        self.write_with(Some(timeout)).await
    }

    /// The write lock if it is free now, in one round trip;
    /// [`crate::LockError::WouldBlock`] otherwise, with no node left.
    pub async fn try_write(&self) -> Result<WriteGuard> {
        self.write_with(Some(Duration::ZERO)).await
    }

    /// Whether a caller of this handle (or a clone) holds the read lock now
    /// (a hold known to be lost does not count).
    pub fn is_read_held(&self) -> bool {
        self.shared.is_held(SideKind::Read)
    }

    /// Whether a caller of this handle (or a clone) holds the write lock now.
    pub fn is_write_held(&self) -> bool {
        self.shared.is_held(SideKind::Write)
    }

    /// All participant nodes (full paths, both sides) in lock order, as
    /// Curator's `getParticipantNodes`.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        participant_nodes(&self.shared, SideKind::Read).await
    }

    async fn read_with(&self, timeout: Option<Duration>) -> Result<ReadGuard> {
        Ok(ReadGuard::new(self.shared.acquire(SideKind::Read, timeout).await?))
    }

    async fn write_with(&self, timeout: Option<Duration>) -> Result<WriteGuard> {
        Ok(WriteGuard::new(self.shared.clone(), self.shared.acquire(SideKind::Write, timeout).await?))
    }
}
