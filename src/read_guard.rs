//! [`ReadGuard`]: proof of a hold of a read/write lock's read side.

use std::ops::Deref;

use crate::error::Result;
use crate::hold::Hold;
use crate::share::Share;

/// Proof of a read hold of a [`crate::ReadWriteLock`].
///
/// (Its refused [`upgrade`](Self::upgrade) is defined beside
/// [`crate::WriteGuard`], the type it would return.)
///
/// Released by [`release`](Self::release) or drop of its last guard, as
/// [`crate::MutexGuard`]. Derefs to [`Hold`] for the status, loss signal
/// and fencing token.
///
/// ```no_run
/// # async fn demo(lock: zkurator::ReadWriteLock) -> zkurator::Result<()> {
/// let read = lock.read().await?;
/// assert!(matches!(read.upgrade(), Err(zkurator::LockError::Upgrade)));
/// read.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard releases the read lock"]
pub struct ReadGuard {
    share: Share,
}

impl ReadGuard {
    pub(crate) fn new(share: Share) -> ReadGuard {
        ReadGuard { share }
    }

    /// One more guard of this read hold (Curator's reentrant read by the
    /// owning thread): no node, no request. [`crate::LockError::Lost`] if the hold is
    /// known to be lost.
    pub fn reenter(&self) -> Result<ReadGuard> {
        Ok(ReadGuard { share: self.share.reenter()? })
    }

    /// Lets this guard go; the last guard of the hold deletes the node and
    /// waits for it.
    pub async fn release(self) -> Result<()> {
        self.share.release().await
    }
}

impl Deref for ReadGuard {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.share
    }
}
