//! [`ReadWriteLock`]: Curator's shared reentrant read/write lock.

use std::time::Duration;

use zookeeper_client::{Acl, Client};

use crate::error::Result;
use crate::mutex::{Mutex, MutexGuard, Settings, Shared, SideKind};

/// A read/write lock on one lock path, wire compatible with Curator's
/// `InterProcessReadWriteLock` and kazurator's `ReadWriteLock`.
///
/// Readers share it; a writer excludes everyone; writers are served in node
/// order, and a reader queued behind a writer waits for it. Both sides are
/// reentrant per handle.
///
/// Downgrade: the write holder may take the read lock and then release the
/// write lock, keeping the read lock. As in Curator 5.5 (CURATOR-621), the read
/// node then carries the write node's sequence, so a writer queued meanwhile
/// cannot slip in. Upgrade (read holder asks for the write lock) fails at once
/// with [`crate::LockError::Upgrade`] instead of waiting on itself forever.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let lock = zkurator::ReadWriteLock::new(&client, "/locks/catalog")?;
/// let write = lock.write().await?;
/// let read = lock.read().await?; // downgrade: take read while holding write...
/// write.release().await?;        // ...then let write go
/// read.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReadWriteLock {
    read: Mutex,
    write: Mutex,
}

/// Options for a [`ReadWriteLock`]; start with [`ReadWriteLock::builder`].
#[derive(Clone, Debug)]
pub struct ReadWriteLockBuilder {
    client: Client,
    lock_path: String,
    settings: Settings,
}

impl ReadWriteLockBuilder {
    /// Bytes stored in both sides' lock nodes (Curator's `lockData`; default:
    /// this host's address).
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.settings.data = Some(data.into());
        self
    }

    /// ACLs for the lock nodes and created parents (default: open to anyone).
    pub fn acls(mut self, acls: Vec<Acl>) -> Self {
        self.settings.acls = acls;
        self
    }

    /// Opts in to revocation requests on both sides.
    pub fn revocable(mut self, revocable: bool) -> Self {
        self.settings.revocable = revocable;
        self
    }

    /// Breaks this lock's rules on purpose (negative controls only).
    #[cfg(feature = "negative-controls")]
    pub fn negative_control(mut self, control: crate::NegativeControl) -> Self {
        self.settings.broken = Some(control);
        self
    }

    /// Validates the path and makes the lock. No request is sent.
    pub fn build(self) -> Result<ReadWriteLock> {
        let shared = Shared::new(&self.client, &self.lock_path, self.settings)?;
        Ok(ReadWriteLock {
            read: Mutex::side(shared.clone(), SideKind::Read),
            write: Mutex::side(shared, SideKind::Write),
        })
    }
}

impl ReadWriteLock {
    /// A read/write lock on `lock_path` with default options.
    pub fn new(client: &Client, lock_path: &str) -> Result<ReadWriteLock> {
        ReadWriteLock::builder(client, lock_path).build()
    }

    /// A builder for a read/write lock on `lock_path`.
    pub fn builder(client: &Client, lock_path: &str) -> ReadWriteLockBuilder {
        ReadWriteLockBuilder { client: client.clone(), lock_path: lock_path.to_owned(), settings: Settings::default() }
    }

    /// The read side (Curator's `readLock()`).
    pub fn read_lock(&self) -> &Mutex {
        &self.read
    }

    /// The write side (Curator's `writeLock()`).
    pub fn write_lock(&self) -> &Mutex {
        &self.write
    }

    /// Waits for the read lock.
    pub async fn read(&self) -> Result<MutexGuard> {
        self.read.lock().await
    }

    /// Waits at most `timeout` for the read lock.
    pub async fn read_timeout(&self, timeout: Duration) -> Result<MutexGuard> {
        self.read.lock_timeout(timeout).await
    }

    /// Waits for the write lock.
    pub async fn write(&self) -> Result<MutexGuard> {
        self.write.lock().await
    }

    /// Waits at most `timeout` for the write lock.
    pub async fn write_timeout(&self, timeout: Duration) -> Result<MutexGuard> {
        self.write.lock_timeout(timeout).await
    }

    /// The lock directory.
    pub fn lock_path(&self) -> &str {
        self.read.lock_path()
    }
}
