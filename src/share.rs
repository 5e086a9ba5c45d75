//! [`Share`]: one guard's share of a [`Hold`]. Every guard type holds one;
//! the last share of a hold (by the hold's explicit count, [`Shares`](crate::shares::Shares))
//! deletes the node: waiting for it in `release`, in the background on drop.

use std::ops::Deref;
use std::sync::Arc;

use crate::error::Result;
use crate::hold::Hold;

/// One guard's share of a hold.
#[derive(Debug)]
pub(crate) struct Share {
    hold: Arc<Hold>,
    /// False once `release` took this share off the count.
    counted: bool,
}

impl Share {
    /// The first share of a new hold (its count starts at one).
    pub(crate) fn first(hold: Arc<Hold>) -> Share {
        Share { hold, counted: true }
    }

    /// One more share of a hold found in the registry (the negative control
    /// that shares holds per handle).
    #[cfg(zkurator_harness)]
    pub(crate) fn join(hold: Arc<Hold>) -> Share {
        hold.shares().join();
        Share { hold, counted: true }
    }

    /// One more share of the same hold: Curator's reentrant acquire.
    /// [`crate::LockError::Lost`] if the hold is known to be lost.
    pub(crate) fn reenter(&self) -> Result<Share> {
        self.hold.ensure_live()?;
        self.hold.shares().join();
        Ok(Share { hold: self.hold.clone(), counted: true })
    }

    /// Lets this share go; the last one deletes the node and waits for it
    /// (finished in the background if this future is dropped).
    pub(crate) async fn release(mut self) -> Result<()> {
        self.counted = false;
        if self.hold.shares().leave() {
            self.hold.release().await
        } else {
            Ok(())
        }
    }

    /// The hold, for the registry of live holds.
    pub(crate) fn hold(&self) -> &Arc<Hold> {
        &self.hold
    }
}

impl Deref for Share {
    type Target = Hold;

    fn deref(&self) -> &Hold {
        &self.hold
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if self.counted && self.hold.shares().leave() {
            self.hold.end_in_background();
        }
    }
}
