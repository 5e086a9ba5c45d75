//! [`WriteGuard`]: proof of a hold of a read/write lock's write side, with
//! the downgrade.

use std::ops::Deref;
use std::sync::Arc;

use crate::error::{LockError, Result};
use crate::hold::Hold;
use crate::read_guard::ReadGuard;
use crate::rule::Rule;
use crate::share::Share;
use crate::shared::{Shared, SideKind};

/// Proof of the write hold of a [`crate::ReadWriteLock`].
///
/// Released by [`release`](Self::release) or drop of its last guard, as
/// [`crate::MutexGuard`]. Derefs to [`Hold`] for the status, loss signal
/// and fencing token.
///
/// ```no_run
/// # async fn demo(lock: zkurator::ReadWriteLock) -> zkurator::Result<()> {
/// let write = lock.write().await?;
/// let read = write.downgrade().await?; // a queued writer cannot slip in between
/// read.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard releases the write lock"]
pub struct WriteGuard {
    lock: Arc<Shared>,
    share: Share,
}

impl WriteGuard {
    pub(crate) fn new(lock: Arc<Shared>, share: Share) -> WriteGuard {
        WriteGuard { lock, share }
    }

    /// One more guard of this write hold (Curator's reentrant write by the
    /// owning thread): no node, no request. [`crate::LockError::Lost`] if the
    /// hold is known to be lost.
    pub fn reenter(&self) -> Result<WriteGuard> {
        Ok(WriteGuard { lock: self.lock.clone(), share: self.share.reenter()? })
    }

    /// Takes the read lock while holding the write lock (Curator's read
    /// acquire by the write owner). As in Curator 5.5 (CURATOR-621) the read
    /// node is created on the write hold's session with the write node's
    /// sequence, so it sorts ahead of every writer queued meanwhile: releasing
    /// the write lock later lets none of them in while the read guard lives.
    /// One round trip; [`crate::LockError::Lost`] if the write hold is known
    /// to be lost.
    pub async fn read(&self) -> Result<ReadGuard> {
        self.share.ensure_live()?;
        let rule = Rule::Read { downgrade_from: Some(self.share.sequence().to_owned()) };
        let read = self.lock.contend(self.share.client(), SideKind::Read, rule, None).await?;
        Ok(ReadGuard::new(read))
    }

    /// Trades this write guard for a read guard: the read node is created
    /// first (see [`read`](Self::read)), then this guard is released (the
    /// write node goes if it was the last guard of its hold), so there is
    /// never a moment with neither.
    pub async fn downgrade(self) -> Result<ReadGuard> {
        let read = self.read().await?;
        self.release().await?;
        Ok(read)
    }

    /// Lets this guard go; the last guard of the hold deletes the node and
    /// waits for it.
    pub async fn release(self) -> Result<()> {
        self.share.release().await
    }
}

impl Deref for WriteGuard {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.share
    }
}

impl ReadGuard {
    /// Refuses at once with [`LockError::Upgrade`] (or [`LockError::Lost`]):
    /// the protocol has no upgrade. A write node would queue behind this read
    /// node and wait on it forever, which is what Curator's
    /// `writeLock().acquire()` does on a thread that holds the read lock.
    /// Release the read lock, then ask for the write lock.
    pub fn upgrade(&self) -> Result<WriteGuard> {
        self.ensure_live()?;
        Err(LockError::Upgrade)
    }
}
