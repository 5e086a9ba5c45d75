//! [`SemaphoreMutex`]: Curator's `InterProcessSemaphoreMutex`, a
//! non-reentrant mutex on the `InterProcessSemaphoreV2` layout.

use std::time::Duration;

use crate::error::Result;
use crate::semaphore::{LeaseGuard, Semaphore, SemaphoreBuilder};
use crate::session::SessionSource;

/// A non-reentrant distributed mutex: Curator's `InterProcessSemaphoreMutex`
/// (a [`Semaphore`] of one lease, on the same nodes), so a Curator and a
/// Rust semaphore mutex on one path exclude each other.
///
/// Not the layout of [`crate::Mutex`] (Curator's `InterProcessMutex`): the
/// two do not exclude each other. There is no re-entry; a caller that locks
/// again while holding the guard waits for itself (as in Curator), so keep
/// one guard per critical section.
///
/// ```no_run
/// # async fn demo(client: zookeeper_client::Client) -> Result<(), zkurator::LockError> {
/// let mutex = zkurator::SemaphoreMutex::new(&client, "/semaphores/job")?;
/// let guard = mutex.lock().await?;
/// assert!(matches!(mutex.try_lock().await, Err(zkurator::LockError::WouldBlock)));
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SemaphoreMutex {
    semaphore: Semaphore,
}

impl SemaphoreMutex {
    /// A semaphore mutex on `path`, on `source` (a `&Client` or a
    /// [`SessionSource`]); [`crate::LockError::InvalidPath`] for a bad path.
    pub fn new(source: impl Into<SessionSource>, path: &str) -> Result<SemaphoreMutex> {
        SemaphoreMutex::builder(source, path).build_mutex()
    }

    /// A builder for a semaphore mutex: finish it with
    /// [`SemaphoreBuilder::build_mutex`].
    pub fn builder(source: impl Into<SessionSource>, path: &str) -> SemaphoreBuilder {
        Semaphore::builder(source, path, 1)
    }

    pub(crate) fn from_semaphore(semaphore: Semaphore) -> SemaphoreMutex {
        SemaphoreMutex { semaphore }
    }

    /// Where this mutex gets its sessions (see [`crate::Mutex::source`]).
    pub fn source(&self) -> &crate::SessionSource {
        self.semaphore.source()
    }

    /// The mutex's path (the parent of `locks/` and `leases/`).
    pub fn path(&self) -> &str {
        self.semaphore.path()
    }

    /// Whether a caller of this handle (or a clone) holds it now: Curator's
    /// `isAcquiredInThisProcess`. A hold known to be lost does not count.
    pub fn is_held(&self) -> bool {
        self.semaphore.leases_held() > 0
    }

    /// The lease nodes, holder first (see [`Semaphore::participant_nodes`]).
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        self.semaphore.participant_nodes().await
    }

    /// Waits until the mutex is held. Cancellation safe.
    pub async fn lock(&self) -> Result<LeaseGuard> {
        self.semaphore.acquire().await
    }

    /// Waits at most `timeout`; [`crate::LockError::Timeout`] after it, with no
    /// node left. A zero timeout tries once ([`crate::LockError::WouldBlock`]).
    pub async fn lock_timeout(&self, timeout: Duration) -> Result<LeaseGuard> {
        self.semaphore.acquire_timeout(timeout).await
    }

    /// Takes the mutex if it is free now; [`crate::LockError::WouldBlock`] otherwise.
    pub async fn try_lock(&self) -> Result<LeaseGuard> {
        self.semaphore.try_acquire().await
    }
}
