//! [`Registry`]: the holds made through the handles of one lock, for
//! `is_held` and `leases_held`. It keeps weak references only: which guard
//! is the last of a hold is decided by the hold's own count
//! ([`crate::shares::Shares`]), never by who holds an `Arc` for a moment.

use std::sync::{Arc, Mutex as StdMutex, Weak};

use crate::hold::Hold;
use crate::monitor::HoldStatus;

/// Weak references to the holds of one side of a lock.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    holds: StdMutex<Vec<Weak<Hold>>>,
}

impl Registry {
    /// Remembers `hold`, forgetting the ones gone meanwhile.
    pub(crate) fn add(&self, hold: &Arc<Hold>) {
        let mut holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        holds.retain(|h| h.strong_count() > 0);
        holds.push(Arc::downgrade(hold));
    }

    /// How many of the holds are live: not released, not known lost.
    pub(crate) fn live(&self) -> usize {
        let holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        holds.iter().filter_map(Weak::upgrade).filter(|h| !matches!(h.known_status(), HoldStatus::Lost(_))).count()
    }

    /// The live holds (for the negative control that shares them per handle).
    #[cfg(zkurator_harness)]
    pub(crate) fn live_holds(&self) -> Vec<Arc<Hold>> {
        let holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        holds.iter().filter_map(Weak::upgrade).filter(|h| !matches!(h.known_status(), HoldStatus::Lost(_))).collect()
    }
}
